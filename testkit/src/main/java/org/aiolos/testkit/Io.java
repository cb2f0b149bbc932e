package org.aiolos.testkit;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.aiolos.linux.Errno;
import org.aiolos.linux.Fds;

/** Byte-level helpers for the monitor tests: non-blocking pipe/eventfd reads and writes. */
public final class Io {
    private static final ThreadLocal<MemorySegment> BUF =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(65536, 8));

    private Io() {
    }

    /** Writes {@code n} bytes (n ≤ 65536) to a non-blocking fd; returns how many went in. */
    public static int write(int fd, int n) {
        int r = Fds.write(fd, BUF.get(), n);
        return Math.max(r, 0);
    }

    /** Writes a 1 to an eventfd (8 bytes, adds 1 to its counter). */
    public static void bumpEventFd(int fd) {
        MemorySegment b = BUF.get();
        b.set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, 1L);
        int r = Fds.write(fd, b, 8);
        assertTrue(r == 8 || r == -Errno.EAGAIN, "eventfd write returned " + r);
    }

    /** Reads everything available from a non-blocking pipe; returns the byte count (-1 at EOF with nothing read). */
    public static int drain(int fd) {
        int total = 0;
        while (true) {
            int r = Fds.read(fd, BUF.get(), 65536);
            if (r > 0) {
                total += r;
            } else if (r == 0) {
                return total == 0 ? -1 : total;
            } else {
                return total;
            }
        }
    }

    /** Reads an eventfd's counter (0 if it was not set). */
    public static long readEventFd(int fd) {
        MemorySegment b = BUF.get();
        int r = Fds.read(fd, b, 8);
        return r == 8 ? b.get(java.lang.foreign.ValueLayout.JAVA_LONG, 0) : 0;
    }

    public static void closeQuietly(int... fds) {
        for (int fd : fds) {
            if (fd >= 0 && Fds.isOpen(fd)) {
                Fds.close(fd);
            }
        }
    }

    /**
     * Live Java threads (the JIT's own threads come and go, so they are not counted), minus
     * JUnit's timeout watcher, which starts lazily with the first test that has a timeout.
     */
    public static int threadCount() {
        // Not counted: JUnit's timeout watcher, and the JDK's "process reaper", which lingers
        // for a minute after a test has started a child JVM (the cold-start probes).
        return (int) Thread.getAllStackTraces().keySet().stream()
                .filter(t -> !t.getName().equals("junit-jupiter-timeout-watcher")
                        && !t.getName().equals("process reaper")).count();
    }

    /**
     * Kernel io_uring worker tasks of this process ({@code iou-wrk-*}, {@code iou-sqp-*} in
     * {@code /proc/self/task/*}/comm): threads the JVM does not see but the process has.
     */
    public static int ioUringKernelThreads() {
        java.io.File[] tasks = new java.io.File("/proc/self/task").listFiles();
        int n = 0;
        if (tasks != null) {
            for (java.io.File t : tasks) {
                try {
                    String comm = java.nio.file.Files.readString(new java.io.File(t, "comm").toPath()).trim();
                    if (comm.startsWith("iou-")) {
                        n++;
                    }
                } catch (java.io.IOException gone) {
                    // the task exited while we listed
                }
            }
        }
        return n;
    }

    /**
     * Open descriptors of this process that are the kernel object {@code target} (the link
     * text in {@code /proc/self/fd}, e.g. {@code anon_inode:[eventpoll]}).
     */
    public static int openFdsTo(String target) {
        return fdsTo(target).size();
    }

    /** The numbers of this process's descriptors that are the kernel object {@code target}. */
    public static java.util.Set<Integer> fdsTo(String target) {
        java.io.File[] fds = new java.io.File("/proc/self/fd").listFiles();
        java.util.Set<Integer> out = new java.util.TreeSet<>();
        if (fds != null) {
            for (java.io.File fd : fds) {
                try {
                    if (java.nio.file.Files.readSymbolicLink(fd.toPath()).toString().equals(target)) {
                        out.add(Integer.parseInt(fd.getName()));
                    }
                } catch (java.io.IOException gone) {
                    // closed while we listed
                }
            }
        }
        return out;
    }

    /** Process tasks (threads of every kind), from /proc/self/task. */
    public static int processThreadCount() {
        String[] tasks = new java.io.File("/proc/self/task").list();
        return tasks == null ? -1 : tasks.length;
    }

    /** Names of the live Java threads, for failure messages. */
    public static String threadNames() {
        return Thread.getAllStackTraces().keySet().stream().map(Thread::getName).sorted().toList().toString();
    }
}
