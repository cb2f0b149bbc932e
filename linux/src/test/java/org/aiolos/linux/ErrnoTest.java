package org.aiolos.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ErrnoTest {
    @Test
    void namesAndDescriptions() {
        assertEquals("EBADF", Errno.name(Errno.EBADF));
        assertEquals("Bad file descriptor", Errno.description(Errno.EBADF));
        assertEquals("EAGAIN", Errno.name(-11), "a raw negative kernel result reads as its magnitude");
        assertEquals("ETIME", Errno.name(62));
        assertEquals("ECANCELED", Errno.name(125));
        assertEquals("EINPROGRESS", Errno.name(115));
        assertEquals("errno 999", Errno.name(999));
        assertEquals("Unknown error 999", Errno.description(999));
        assertEquals("EINVAL (Invalid argument)", Errno.describe(Errno.EINVAL));
    }

    @Test
    void syscallExceptionMessage() {
        SyscallException e = new SyscallException("epoll_ctl", "ADD, fd 12", Errno.EBADF);
        assertEquals("epoll_ctl(ADD, fd 12): EBADF (Bad file descriptor)", e.getMessage());
        assertEquals("epoll_ctl", e.call());
        assertEquals(9, e.errno());
        assertEquals("EBADF", e.errnoName());
    }
}
