package org.aiolos.linux;

import java.util.Objects;

/**
 * Whether a kernel facility works on this system and, if not, why: the answer of one
 * probe, in Netty's {@code isAvailable()} / {@code unavailabilityCause()} shape. The
 * binding that owns the facility makes the probe ({@link IoUring#probe()},
 * {@link Epoll#probe()}, {@link LinuxAio#probe(int)}), so every backend built on it
 * reports the same reason; {@link ProbeOnce} keeps the answer.
 */
public final class Availability {
    /** The facility works. */
    public static final Availability AVAILABLE = new Availability(null, null);

    private final String reason;
    private final Throwable cause;

    private Availability(String reason, Throwable cause) {
        this.reason = reason;
        this.cause = cause;
    }

    /** Unavailable: {@code reason} says why in one line, {@code cause} is what the probe caught. */
    public static Availability unavailable(String reason, Throwable cause) {
        return new Availability(Objects.requireNonNull(reason, "reason"), Objects.requireNonNull(cause, "cause"));
    }

    /** Unavailable because a system call failed: "io_uring_setup failed: EPERM (Operation not permitted)". */
    public static Availability failed(SyscallException e) {
        return unavailable(e.call() + " failed: " + Errno.describe(e.errno()), e);
    }

    public boolean isAvailable() {
        return cause == null;
    }

    /** What the probe caught, or {@code null} when the facility works. */
    public Throwable unavailabilityCause() {
        return cause;
    }

    /** Why the facility does not work, in one line; {@code null} when it works. */
    public String unavailableReason() {
        return reason;
    }

    @Override
    public String toString() {
        return cause == null ? "available" : "unavailable: " + reason;
    }
}
