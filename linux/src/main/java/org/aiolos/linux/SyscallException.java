package org.aiolos.linux;

import java.io.Serial;

/**
 * A system call failed in a way its caller did not expect. Expected outcomes on
 * non-blocking descriptors ({@code EAGAIN}, {@code EINTR}) are returned as negative values
 * instead; everything else becomes this exception, so that a failure always names the
 * call, its key arguments and the errno, e.g.
 * {@code epoll_ctl(ADD, fd 12): EBADF (Bad file descriptor)}.
 */
public final class SyscallException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    private final String call;
    private final int errno;

    /**
     * @param call    the system call name, e.g. {@code "epoll_ctl"}
     * @param details the key arguments, e.g. {@code "ADD, fd 12"}; may be empty
     * @param errno   the positive errno value
     */
    public SyscallException(String call, String details, int errno) {
        super(call + "(" + (details == null ? "" : details) + "): " + Errno.describe(errno));
        this.call = call;
        this.errno = Math.abs(errno);
    }

    /** The system call name, e.g. {@code "io_uring_setup"}. */
    public String call() {
        return call;
    }

    /** The positive errno value. */
    public int errno() {
        return errno;
    }

    /** The symbolic errno name, e.g. {@code "EBADF"}. */
    public String errnoName() {
        return Errno.name(errno);
    }
}
