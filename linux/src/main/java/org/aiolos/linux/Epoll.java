package org.aiolos.linux;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * {@code epoll(7)}: create an instance, add/modify/delete watched descriptors, and the bit
 * constants. Waiting is done through an {@link EpollEventArray}.
 *
 * <p>On Linux the basic epoll bits have the same values as the poll bits
 * ({@code EPOLLIN == POLLIN == 0x001}, PRI 0x002, OUT 0x004, ERR 0x008, HUP 0x010,
 * RDHUP 0x2000 — {@code sys/epoll.h} and {@code asm-generic/poll.h}), so
 * {@link #fromPollBits} and {@link #toPollBits} only mask.
 */
public final class Epoll {
    // sys/epoll.h (enum EPOLL_EVENTS)
    public static final int EPOLLIN = 0x001;
    public static final int EPOLLPRI = 0x002;
    public static final int EPOLLOUT = 0x004;
    public static final int EPOLLERR = 0x008;
    public static final int EPOLLHUP = 0x010;
    public static final int EPOLLRDHUP = 0x2000;
    public static final int EPOLLONESHOT = 1 << 30;
    public static final int EPOLLET = 1 << 31;
    // sys/epoll.h
    public static final int EPOLL_CTL_ADD = 1;
    public static final int EPOLL_CTL_DEL = 2;
    public static final int EPOLL_CTL_MOD = 3;
    /** sys/epoll.h: EPOLL_CLOEXEC = 02000000 (O_CLOEXEC). */
    static final int EPOLL_CLOEXEC = 0x80000;

    /** The bits with identical meaning and value in poll and epoll. */
    private static final int SHARED_BITS = EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLRDHUP;

    /** Per-thread 12-byte {@code struct epoll_event} for ctl, so ctl allocates nothing. */
    private static final ThreadLocal<MemorySegment> CTL_EVENT =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(EpollEventArray.EVENT_SIZE, 8));

    private Epoll() {
    }

    /** A new epoll instance ({@code epoll_create1(EPOLL_CLOEXEC)}); the caller closes it with {@link Fds#close}. */
    public static int create() {
        int r = Native.epollCreate1(EPOLL_CLOEXEC);
        if (r < 0) {
            throw new SyscallException("epoll_create1", "EPOLL_CLOEXEC", -r);
        }
        return r;
    }

    /** Whether epoll works here: an instance created and closed at once. */
    public static Availability probe() {
        try {
            Fds.close(create());
            return Availability.AVAILABLE;
        } catch (SyscallException e) {
            return Availability.failed(e);
        }
    }

    /**
     * {@code epoll_ctl(epfd, op, fd, {events, data})}. For {@link #EPOLL_CTL_DEL} the
     * events and data are ignored. Failures throw, naming the op and fd.
     */
    public static void ctl(int epfd, int op, int fd, int events, long data) {
        if (op != EPOLL_CTL_ADD && op != EPOLL_CTL_DEL && op != EPOLL_CTL_MOD) {
            throw new IllegalArgumentException("epoll_ctl op must be EPOLL_CTL_ADD, _DEL or _MOD, got " + op);
        }
        MemorySegment ev = CTL_EVENT.get();
        ev.set(JAVA_INT_UNALIGNED, 0, events);
        ev.set(JAVA_LONG_UNALIGNED, 4, data);
        int r = Native.epollCtl(epfd, op, fd, ev);
        if (r < 0) {
            throw new SyscallException("epoll_ctl", opName(op) + ", fd " + fd + " (epfd " + epfd + ")", -r);
        }
    }

    /** "ADD", "MOD" or "DEL". */
    public static String opName(int op) {
        return switch (op) {
            case EPOLL_CTL_ADD -> "ADD";
            case EPOLL_CTL_DEL -> "DEL";
            case EPOLL_CTL_MOD -> "MOD";
            default -> "op " + op;
        };
    }

    /** Poll bits ({@link org.aiolos.api.FdEvents}) to epoll bits: identical values, masked. */
    public static int fromPollBits(int pollEvents) {
        return pollEvents & SHARED_BITS;
    }

    /** Epoll bits to poll bits: identical values; flags such as EPOLLET are dropped. */
    public static int toPollBits(int epollEvents) {
        return epollEvents & SHARED_BITS;
    }
}
