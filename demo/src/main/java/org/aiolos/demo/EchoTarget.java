package org.aiolos.demo;

import java.util.Collection;
import java.util.Map;
import java.util.TreeSet;
import org.aiolos.api.AioContext;
import org.osgi.framework.Filter;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.InvalidSyntaxException;

/**
 * The echo demo's {@code context.target}, the DS target of its context reference, read as
 * Service Component Runtime reads it, to say why the demo does not run: a filter SCR cannot
 * parse leaves the component unsatisfied for good, and one that matches no IOThread until
 * one appears; SCR says neither where an operator looks.
 *
 * @param text the filter as configured; null when none is (any IOThread will do)
 * @param filter the parsed filter; null when none is configured or it is malformed
 * @param malformed why {@code text} is no filter; null when it is one
 */
record EchoTarget(String text, Filter filter, String malformed) {
    static final String PROPERTY = "context.target";

    static EchoTarget of(Map<String, ?> props) {
        Object v = props.get(PROPERTY);
        if (v == null || v.toString().isBlank()) {
            return new EchoTarget(null, null, null);
        }
        String text = v.toString();
        try {
            return new EchoTarget(text, FrameworkUtil.createFilter(text), null);
        } catch (InvalidSyntaxException e) {
            return new EchoTarget(text, null, e.getMessage());
        }
    }

    /** The warning for a filter SCR cannot parse; null when it parses. */
    String malformedWarning() {
        return malformed == null ? null : "echo: " + PROPERTY + " '" + text + "' is no valid filter (" + malformed
                + "); the echo demo does not start until configuration " + EchoComponent.PID + " is fixed";
    }

    /**
     * The warning for a filter that matches none of {@code contexts} (the properties of the
     * IOThreads' context services), naming those that run; null when one matches, or when no
     * filter is configured (the demo takes any IOThread, and says nothing while none runs,
     * as at every start).
     */
    String waitingWarning(Collection<? extends Map<String, ?>> contexts) {
        if (filter == null) {
            return null;
        }
        TreeSet<String> running = new TreeSet<>();
        for (Map<String, ?> c : contexts) {
            if (filter.matches(c)) {
                return null;
            }
            running.add(String.valueOf(c.get(AioContext.NAME_PROPERTY)));
        }
        return "echo: " + PROPERTY + " " + text + " matches no IOThread ("
                + (running.isEmpty() ? "no IOThread runs" : "running: " + String.join(", ", running))
                + "); the echo demo waits for one";
    }
}
