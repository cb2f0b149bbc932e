package org.aiolos.linux.faults;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Fault injection for system calls, so that tests of the layers above can drive the error
 * paths (ENOSYS from {@code eventfd}, ENOMEM from {@code io_uring_setup}, a short
 * {@code pwrite}...) without a special kernel.
 *
 * <p>Calls are named by their system call name: {@code read}, {@code write}, {@code pread},
 * {@code pwrite}, {@code preadv}, {@code pwritev}, {@code eventfd}, {@code pipe2},
 * {@code ppoll}, {@code epoll_create1}, {@code epoll_ctl}, {@code epoll_wait},
 * {@code io_uring_setup}, {@code io_uring_enter}, {@code io_uring_register},
 * {@code io_setup}, {@code io_submit}, {@code io_getevents}, {@code io_destroy},
 * {@code open}, {@code close}, {@code fcntl}, {@code dup} (performed as
 * {@code fcntl(F_DUPFD_CLOEXEC)}), {@code fdatasync}, {@code ftruncate}, {@code fallocate},
 * {@code statx}, {@code ioctl}, {@code socket}, {@code socketpair}, {@code bind},
 * {@code listen}, {@code getsockname}, {@code accept4}, {@code connect}, {@code setsockopt},
 * {@code shutdown}, {@code mmap}. ({@code pread}/{@code pwrite} are the kernel's
 * {@code pread64}/{@code pwrite64}.)
 * A failure injected into a call is reported exactly like a real one: it goes through the
 * same EAGAIN/EINTR-or-throw convention as the kernel's answer would.
 *
 * <p>Cost when nothing is armed: one opaque read of a static flag per call. Arming and
 * matching are serialised by a lock, so rules may be armed from any thread; a rule armed
 * while another thread is inside a call applies from that thread's next call on.
 */
public final class Faults {
    private static final VarHandle ARMED;
    @SuppressWarnings("unused") // accessed through ARMED
    private static boolean armed;

    private static final Object LOCK = new Object();
    /** Guarded by LOCK. */
    private static final Map<String, List<Rule>> RULES = new HashMap<>();

    static {
        try {
            ARMED = MethodHandles.lookup().findStaticVarHandle(Faults.class, "armed", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private enum Kind { FAIL_NTH, FAIL_ALWAYS, SHORT_NTH }

    private static final class Rule {
        final Kind kind;
        int remaining;
        final int errno;
        final long maxBytes;

        Rule(Kind kind, int remaining, int errno, long maxBytes) {
            this.kind = kind;
            this.remaining = remaining;
            this.errno = errno;
            this.maxBytes = maxBytes;
        }
    }

    private Faults() {
    }

    /**
     * Makes the {@code nth} future call of {@code call} (1 = the next one) fail with
     * {@code errno} without performing it. The rule is used up when it fires.
     */
    public static void failNth(String call, int nth, int errno) {
        checkCall(call);
        if (nth < 1) {
            throw new IllegalArgumentException("nth must be >= 1, got " + nth);
        }
        checkErrno(errno);
        add(call, new Rule(Kind.FAIL_NTH, nth, errno, 0));
    }

    /** Makes every future call of {@code call} fail with {@code errno} until {@link #clear()}. */
    public static void failAlways(String call, int errno) {
        checkCall(call);
        checkErrno(errno);
        add(call, new Rule(Kind.FAIL_ALWAYS, 0, errno, 0));
    }

    /**
     * Makes the {@code nth} future call of {@code call} (a byte-moving call: {@code read},
     * {@code write}, {@code pread}, {@code pwrite}, {@code preadv}, {@code pwritev}) run with
     * its byte count capped at {@code maxBytes}, so that it returns a short count. For the
     * vectored calls the cap trims the iovec list (the iovec array itself is restored after
     * the call).
     */
    public static void shortNth(String call, int nth, long maxBytes) {
        checkCall(call);
        if (nth < 1) {
            throw new IllegalArgumentException("nth must be >= 1, got " + nth);
        }
        if (maxBytes < 0) {
            throw new IllegalArgumentException("maxBytes must be >= 0, got " + maxBytes);
        }
        add(call, new Rule(Kind.SHORT_NTH, nth, 0, maxBytes));
    }

    /** Removes every rule. */
    public static void clear() {
        synchronized (LOCK) {
            RULES.clear();
            ARMED.setOpaque(false);
        }
    }

    private static void checkCall(String call) {
        if (call == null || call.isBlank()) {
            throw new IllegalArgumentException("call name must be a system call name such as \"write\"");
        }
    }

    private static void checkErrno(int errno) {
        if (errno <= 0 || errno > 4095) {
            throw new IllegalArgumentException("errno must be a positive Linux errno (1..4095), got " + errno);
        }
    }

    private static void add(String call, Rule rule) {
        synchronized (LOCK) {
            RULES.computeIfAbsent(call, k -> new ArrayList<>()).add(rule);
            ARMED.setOpaque(true);
        }
    }

    /** The one check every binding makes: cheap when nothing is armed. */
    public static boolean armed() {
        return (boolean) ARMED.getOpaque();
    }

    /**
     * Counts one call of {@code call} against the armed rules. Returns {@code -errno} if the
     * call must fail, otherwise the byte count to use: {@code len}, or less if a short rule
     * fired. Only called when {@link #armed()}.
     */
    public static long check(String call, long len) {
        synchronized (LOCK) {
            List<Rule> rules = RULES.get(call);
            if (rules == null) {
                return len;
            }
            int fail = 0;
            long result = len;
            for (Iterator<Rule> it = rules.iterator(); it.hasNext(); ) {
                Rule r = it.next();
                switch (r.kind) {
                    case FAIL_ALWAYS -> {
                        if (fail == 0) {
                            fail = r.errno;
                        }
                    }
                    case FAIL_NTH -> {
                        if (--r.remaining == 0) {
                            it.remove();
                            if (fail == 0) {
                                fail = r.errno;
                            }
                        }
                    }
                    case SHORT_NTH -> {
                        if (--r.remaining == 0) {
                            it.remove();
                            result = Math.min(result, r.maxBytes);
                        }
                    }
                }
            }
            if (rules.isEmpty()) {
                RULES.remove(call);
                if (RULES.isEmpty()) {
                    ARMED.setOpaque(false);
                }
            }
            return fail != 0 ? -fail : result;
        }
    }
}
