package org.aiolos.itests;

import java.io.File;
import java.lang.management.ManagementFactory;

/** What the process holds: open fds, JVM threads and kernel tasks (io_uring workers included). */
record ProcessCounts(int fds, int jvmThreads, int tasks) {

    static ProcessCounts now() {
        return new ProcessCounts(count("/proc/self/fd"), ManagementFactory.getThreadMXBean().getThreadCount(),
                count("/proc/self/task"));
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

    private static int count(String dir) {
        String[] names = new File(dir).list();
        return names == null ? -1 : names.length;
    }

    @Override
    public String toString() {
        return fds + " fds, " + jvmThreads + " JVM threads, " + tasks + " kernel tasks";
    }
}
