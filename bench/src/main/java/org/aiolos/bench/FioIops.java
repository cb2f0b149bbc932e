package org.aiolos.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads fio's JSON output on stdin and prints the IOPS of the read or write side
 * ({@code FioIops randread|randwrite}), so bench/disk.sh needs no jq or python.
 */
public final class FioIops {
    private FioIops() {
    }

    public static void main(String[] args) throws IOException {
        String json = new String(System.in.readAllBytes(), StandardCharsets.UTF_8);
        String side = args.length > 0 && args[0].contains("write") ? "write" : "read";
        // The first "<side>" : { ... "iops" : N is the job's (group-reported) figure.
        Matcher m = Pattern.compile("\"" + side + "\"\\s*:\\s*\\{[^}]*?\"iops\"\\s*:\\s*([0-9.]+)", Pattern.DOTALL)
                .matcher(json);
        if (!m.find()) {
            System.err.println("no " + side + " iops in fio output");
            System.exit(1);
        }
        System.out.printf(java.util.Locale.ROOT, "%.0f%n", Double.parseDouble(m.group(1)));
    }
}
