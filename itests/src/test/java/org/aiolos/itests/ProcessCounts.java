package org.aiolos.itests;

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the process holds: open fds (by kind, so that a growth names what grew), JVM threads
 * and kernel tasks (io_uring workers included).
 */
record ProcessCounts(int fds, int jvmThreads, int tasks, Map<String, Integer> fdKinds) {

    static ProcessCounts now() {
        Map<String, Integer> kinds = openFdKinds();
        int fds = kinds.values().stream().mapToInt(Integer::intValue).sum();
        return new ProcessCounts(fds, ManagementFactory.getThreadMXBean().getThreadCount(),
                count("/proc/self/task"), kinds);
    }

    /**
     * Counts once they stop moving: io_uring's kernel workers exit a moment after their
     * ring closes, connections a moment after their peer.
     */
    static ProcessCounts settled() throws InterruptedException {
        ProcessCounts last = now();
        for (int i = 0; i < 40; i++) {
            Thread.sleep(50);
            ProcessCounts now = now();
            if (now.equals(last)) {
                return now;
            }
            last = now;
        }
        return last;
    }

    /** The kinds whose count is higher here than in {@code before}, e.g. {@code anon_inode:[eventfd]+2}. */
    String grownSince(ProcessCounts before) {
        StringBuilder grown = new StringBuilder();
        fdKinds.forEach((kind, n) -> {
            int was = before.fdKinds.getOrDefault(kind, 0);
            if (n > was) {
                grown.append(grown.isEmpty() ? "" : ", ").append(kind).append('+').append(n - was);
            }
        });
        return grown.toString();
    }

    /** Open fds by what they point to: sockets and pipes by type, files by path. */
    private static Map<String, Integer> openFdKinds() {
        Map<String, Integer> kinds = new TreeMap<>();
        String[] names = new File("/proc/self/fd").list();
        if (names == null) {
            return kinds;
        }
        for (String name : names) {
            String target;
            try {
                target = Files.readSymbolicLink(Path.of("/proc/self/fd", name)).toString();
            } catch (IOException e) {
                continue; // closed between the listing and the read, or the listing's own fd
            }
            kinds.merge(kindOf(target), 1, Integer::sum);
        }
        return kinds;
    }

    private static String kindOf(String target) {
        if (target.startsWith("socket:")) {
            return "socket";
        }
        if (target.startsWith("pipe:")) {
            return "pipe";
        }
        return target;
    }

    private static int count(String dir) {
        String[] names = new File(dir).list();
        return names == null ? -1 : names.length;
    }

    @Override
    public String toString() {
        return fds + " fds, " + jvmThreads + " JVM threads, " + tasks + " kernel tasks";
    }
}
