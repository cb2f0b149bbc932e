package org.aiolos.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The echo demo's configuration, checked whole: every bad field is named at once, as the
 * IOThread and export configurations are, instead of a conversion error escaping from the
 * component's activation with a stack trace.
 *
 * @param port the TCP port on 127.0.0.1; 0 picks a free one
 * @param pingMs milliseconds between the built-in client's pings; 0 turns it off
 */
record EchoSettings(int port, long pingMs) {
    static final int DEFAULT_PORT = 7007;
    static final long DEFAULT_PING_MS = 100;

    /**
     * @param props the component's properties: the configuration's, and the framework's
     *     and FileInstall's, whose keys hold a dot (as does {@code context.target}, the
     *     reference's target)
     * @throws IllegalArgumentException naming every bad field
     */
    static EchoSettings parse(Map<String, ?> props) {
        List<String> errors = new ArrayList<>();
        long port = number(props, "port", DEFAULT_PORT, 65535, errors);
        long pingMs = number(props, "ping-ms", DEFAULT_PING_MS, Long.MAX_VALUE, errors);
        props.keySet().stream().filter(k -> !k.contains(".") && !k.equals("port") && !k.equals("ping-ms")).sorted()
                .forEach(k -> errors.add(k + ": unknown key; the known keys are context.target, ping-ms, port"));
        if (!errors.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", errors));
        }
        return new EchoSettings((int) port, pingMs);
    }

    private static long number(Map<String, ?> props, String key, long dflt, long max, List<String> errors) {
        Object v = props.get(key);
        if (v == null || v.toString().isBlank()) {
            return dflt;
        }
        long n;
        try {
            n = v instanceof Number num ? num.longValue() : Long.parseLong(v.toString().trim());
        } catch (NumberFormatException e) {
            errors.add(key + ": must be an integer in 0.." + max + ", got '" + v + "'");
            return dflt;
        }
        if (n < 0 || n > max) {
            errors.add(key + ": must be in 0.." + max + ", got " + n);
        }
        return n;
    }
}
