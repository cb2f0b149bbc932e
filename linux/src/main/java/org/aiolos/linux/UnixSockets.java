package org.aiolos.linux;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;

/**
 * Listening Unix domain stream sockets (QEMU's {@code unix_listen_saddr} in
 * {@code util/qemu-sockets.c}), as raw descriptors the fd monitors watch like any other:
 * accept them with {@link Sockets#accept} and close them with {@link Fds#close}. The
 * JDK's {@code UnixDomainSocketAddress} channels hide their descriptor, so they cannot join
 * a context's fd monitor; hence these bindings.
 */
public final class UnixSockets {
    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    /** struct sockaddr_un: sun_family u16, then sun_path[108]. */
    private static final int SOCKADDR_UN_SIZE = 110;
    private static final int MAX_PATH_BYTES = 107;

    private UnixSockets() {
    }

    /**
     * A non-blocking close-on-exec socket listening on {@code path}, whose file gets
     * {@code mode} (e.g. {@code 0600}) before it starts listening, so no client connects
     * through wider permissions. A socket file left at {@code path} by an earlier run (one
     * nobody listens on: a connection to it is refused) is replaced; a socket a server still
     * listens on is refused, where QEMU would unlink it and leave that server unreachable;
     * any other file there is refused too.
     *
     * @param mode permission bits, 0 to 0777
     * @throws IllegalArgumentException for a path longer than 107 bytes, a mode out of range,
     *     a file at {@code path} that is not a socket, or a socket a server listens on
     * @throws SyscallException when socket, bind or listen fails (the message names path and errno)
     */
    public static int listen(Path path, int mode, int backlog) {
        if ((mode & ~0777) != 0) {
            throw new IllegalArgumentException("socket mode must be 0..0777, got 0" + Integer.toOctalString(mode));
        }
        byte[] name = path.toString().getBytes(StandardCharsets.UTF_8);
        if (name.length == 0 || name.length > MAX_PATH_BYTES) {
            throw new IllegalArgumentException("a Unix socket path must be 1.." + MAX_PATH_BYTES + " bytes, got "
                    + name.length + ": " + path);
        }
        removeStale(path);
        int fd = Native.socket(AF_UNIX, SOCK_STREAM | Fds.SOCK_NONBLOCK | Fds.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw new SyscallException("socket", "AF_UNIX, SOCK_STREAM", -fd);
        }
        boolean ok = false;
        boolean bound = false;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment addr = a.allocate(SOCKADDR_UN_SIZE, 2);
            addr.set(JAVA_SHORT, 0, (short) AF_UNIX);
            MemorySegment.copy(name, 0, addr, JAVA_BYTE, 2, name.length);
            int r = Native.bind(fd, addr, SOCKADDR_UN_SIZE);
            if (r < 0) {
                throw new SyscallException("bind", "fd " + fd + ", " + path, -r);
            }
            bound = true;
            try {
                Files.setPosixFilePermissions(path, permissions(mode));
            } catch (IOException e) {
                throw new IllegalStateException("cannot set mode 0" + Integer.toOctalString(mode) + " on " + path
                        + ": " + e.getMessage(), e);
            }
            Sockets.listen(fd, backlog);
            ok = true;
            return fd;
        } finally {
            if (!ok) {
                Fds.close(fd);
                try {
                    if (bound) {
                        Files.deleteIfExists(path); // ours: a failed bind leaves whatever is there alone
                    }
                } catch (IOException ignored) {
                    // it cannot be removed either
                }
            }
        }
    }

    private static void removeStale(Path path) {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try {
            Object type = Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            boolean socket = ((Integer) type & 0170000) == 0140000;
            if (!socket) {
                throw new IllegalArgumentException(path + " exists and is not a socket; refusing to replace it");
            }
            if (listenedOn(path)) {
                throw new IllegalArgumentException(path + " is the socket of a server that is running (it accepted a"
                        + " connection); refusing to replace it");
            }
            Files.delete(path);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot replace the socket file " + path + ": " + e.getMessage(), e);
        }
    }

    /**
     * Whether a server listens on the socket file {@code path}: a connection is accepted (and
     * closed at once). Refused means a file left behind; anything else (no permission, say)
     * cannot tell, and is not taken as leave to delete the file.
     */
    private static boolean listenedOn(Path path) throws IOException {
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            probe.connect(UnixDomainSocketAddress.of(path));
            return true;
        } catch (ConnectException refused) {
            return false;
        }
    }

    /**
     * The identity (device and inode) of the file at {@code path}, for {@link #removeIfSame}.
     *
     * @throws IOException when there is no file at {@code path}
     */
    public static Object identity(Path path) throws IOException {
        return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
    }

    /**
     * Removes {@code path} if it is still the file {@code identity} names: a socket file that
     * another server has put there since (after removing ours) is left to it.
     *
     * @return whether the file was removed
     */
    public static boolean removeIfSame(Path path, Object identity) throws IOException {
        Object now;
        try {
            now = identity(path);
        } catch (NoSuchFileException gone) {
            return false;
        }
        return now.equals(identity) && Files.deleteIfExists(path);
    }

    /** The permission bits of an octal mode. */
    static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> p = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = {PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE,
            PosixFilePermission.GROUP_READ, PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE,
            PosixFilePermission.OWNER_READ};
        for (int bit = 0; bit < 9; bit++) {
            if ((mode & (1 << bit)) != 0) {
                p.add(order[bit]);
            }
        }
        return p;
    }
}
