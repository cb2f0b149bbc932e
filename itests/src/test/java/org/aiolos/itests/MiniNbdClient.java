package org.aiolos.itests;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * Just enough of an NBD client to pipeline requests and read their replies one by one,
 * which the command-line clients do not let a test do: fixed-newstyle handshake with
 * {@code NBD_OPT_EXPORT_NAME}, simple replies only.
 */
final class MiniNbdClient implements AutoCloseable {
    private static final long NBDMAGIC = 0x4e42444d41474943L;
    private static final long IHAVEOPT = 0x49484156454f5054L;
    private static final int FLAG_C_FIXED_NEWSTYLE = 1;
    private static final int FLAG_C_NO_ZEROES = 2;
    private static final int OPT_EXPORT_NAME = 1;
    private static final int REQUEST_MAGIC = 0x25609513;
    private static final int SIMPLE_REPLY_MAGIC = 0x67446698;
    static final int CMD_READ = 0;

    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;
    final long size;

    MiniNbdClient(int port, String export) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(30_000); // a server that never answers fails the test, not hangs it
        in = new DataInputStream(socket.getInputStream());
        out = new DataOutputStream(socket.getOutputStream());
        if (in.readLong() != NBDMAGIC || in.readLong() != IHAVEOPT) {
            throw new IOException("not a newstyle NBD server");
        }
        in.readUnsignedShort(); // handshake flags: fixed newstyle and no zeroes, both asked for below
        out.writeInt(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES);
        byte[] name = export.getBytes(StandardCharsets.UTF_8);
        out.writeLong(IHAVEOPT);
        out.writeInt(OPT_EXPORT_NAME);
        out.writeInt(name.length);
        out.write(name);
        out.flush();
        size = in.readLong();
        in.readUnsignedShort(); // transmission flags
    }

    /** Sends a read request without waiting for its reply. */
    void sendRead(long handle, long offset, int length) throws IOException {
        out.writeInt(REQUEST_MAGIC);
        out.writeShort(0);
        out.writeShort(CMD_READ);
        out.writeLong(handle);
        out.writeLong(offset);
        out.writeInt(length);
        out.flush();
    }

    /**
     * The next simple reply as {handle, error}, its data (when the error is 0) read into
     * {@code data}; null at the end of the stream.
     */
    long[] reply(byte[] data) throws IOException {
        int magic;
        try {
            magic = in.readInt();
        } catch (EOFException closed) {
            return null;
        }
        if (magic != SIMPLE_REPLY_MAGIC) {
            throw new IOException("unexpected reply magic 0x" + Integer.toHexString(magic));
        }
        long error = in.readInt() & 0xffffffffL;
        long handle = in.readLong();
        if (error == 0) {
            in.readFully(data);
        }
        return new long[] {handle, error};
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
