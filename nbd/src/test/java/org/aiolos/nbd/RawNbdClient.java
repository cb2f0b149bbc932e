package org.aiolos.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.BufferedOutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** A minimal NBD client over java.net.Socket for protocol and fuzz tests (blocking, 10 s timeout). */
final class RawNbdClient implements AutoCloseable {
    static final long NBDMAGIC = 0x4e42444d41474943L;
    static final long IHAVEOPT = 0x49484156454F5054L;
    static final long OPT_REPLY_MAGIC = 0x3e889045565a9L;
    static final int REQUEST_MAGIC = 0x25609513;
    static final int SIMPLE_MAGIC = 0x67446698;
    static final int STRUCTURED_MAGIC = 0x668e33ef;

    final Socket socket;
    DataInputStream in;
    DataOutputStream out;
    /** The TLS session after {@link #startTls}, else null. */
    javax.net.ssl.SSLSocket tls;
    long size;
    int transmissionFlags;

    RawNbdClient(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        socket.setTcpNoDelay(true);
        in = new DataInputStream(socket.getInputStream());
        out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), 1 << 16));
    }

    /** Reads the greeting and sends the client flags. */
    int greet(int clientFlags) throws IOException {
        assertEquals(NBDMAGIC, in.readLong());
        assertEquals(IHAVEOPT, in.readLong());
        int serverFlags = in.readUnsignedShort();
        out.writeInt(clientFlags);
        out.flush();
        return serverFlags;
    }

    void option(int option, byte[] data) throws IOException {
        out.writeLong(IHAVEOPT);
        out.writeInt(option);
        out.writeInt(data.length);
        out.write(data);
        out.flush();
    }

    record OptReply(int option, int type, byte[] data) {
        String text() {
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    OptReply optReply() throws IOException {
        assertEquals(OPT_REPLY_MAGIC, in.readLong());
        int opt = in.readInt();
        int type = in.readInt();
        int len = in.readInt();
        byte[] d = new byte[len];
        in.readFully(d);
        return new OptReply(opt, type, d);
    }

    static byte[] goData(String name, int... infos) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 + n.length + 2 + 2 * infos.length);
        b.putInt(n.length).put(n).putShort((short) infos.length);
        for (int i : infos) {
            b.putShort((short) i);
        }
        return b.array();
    }

    /** Fixed newstyle with NO_ZEROES, optional structured replies, then NBD_OPT_GO. */
    RawNbdClient go(String name, boolean structured) throws IOException {
        greet(3);
        return goOnly(name, structured);
    }

    /** Optional structured replies, then NBD_OPT_GO (after the greeting, e.g. once TLS is up). */
    RawNbdClient goOnly(String name, boolean structured) throws IOException {
        if (structured) {
            option(8, new byte[0]);
            assertEquals(1, optReply().type());
        }
        option(7, goData(name));
        while (true) {
            OptReply r = optReply();
            if (r.type() == 1) {
                return this;
            }
            if (r.type() < 0) {
                throw new IOException("GO failed: type 0x" + Integer.toHexString(r.type()) + " " + r.text());
            }
            if (r.type() == 3 && r.data().length >= 12 && r.data()[0] == 0 && r.data()[1] == 0) {
                java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(r.data());
                b.getShort();
                size = b.getLong();
                transmissionFlags = b.getShort() & 0xffff;
            }
        }
    }

    void request(int flags, int type, long cookie, long offset, long length) throws IOException {
        out.writeInt(REQUEST_MAGIC);
        out.writeShort(flags);
        out.writeShort(type);
        out.writeLong(cookie);
        out.writeLong(offset);
        out.writeInt((int) length);
    }

    void write(long cookie, long offset, byte[] data, int flags) throws IOException {
        request(flags, 1, cookie, offset, data.length);
        out.write(data);
        out.flush();
    }

    /** Simple reply: returns the error; asserts the cookie. */
    int simpleReply(long cookie) throws IOException {
        assertEquals(SIMPLE_MAGIC, in.readInt(), "simple reply magic");
        int err = in.readInt();
        assertEquals(cookie, in.readLong(), "cookie");
        return err;
    }

    /** A simple reply without error to any request: returns its cookie. */
    long successfulReplyCookie() throws IOException {
        assertEquals(SIMPLE_MAGIC, in.readInt(), "simple reply magic");
        assertEquals(0, in.readInt(), "error");
        return in.readLong();
    }

    /** READ with simple replies: returns the data, or throws with the error. */
    byte[] read(long cookie, long offset, int length) throws IOException {
        request(0, 0, cookie, offset, length);
        out.flush();
        int err = simpleReply(cookie);
        if (err != 0) {
            throw new IOException("NBD error " + err);
        }
        byte[] d = new byte[length];
        in.readFully(d);
        return d;
    }

    int flush(long cookie) throws IOException {
        request(0, 3, cookie, 0, 0);
        out.flush();
        return simpleReply(cookie);
    }

    void disconnect() throws IOException {
        request(0, 2, 0, 0, 0);
        out.flush();
    }

    /** True when the server has closed the connection (EOF within the timeout). */
    boolean closedByServer() throws IOException {
        try {
            byte[] sink = new byte[1 << 16];
            while (in.read(sink) >= 0) {
                // drain whatever the server still sent
            }
            return true;
        } catch (EOFException e) {
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }

    /**
     * Sends NBD_OPT_STARTTLS; on NBD_REP_ACK runs the TLS handshake with {@code tlsContext}
     * and continues on the TLS stream.
     *
     * @return the reply type to STARTTLS
     */
    int startTls(javax.net.ssl.SSLContext tlsContext) throws IOException {
        option(5, new byte[0]);
        OptReply r = optReply();
        if (r.type() != 1) {
            return r.type();
        }
        tls = (javax.net.ssl.SSLSocket) tlsContext.getSocketFactory().createSocket(socket, "localhost",
                socket.getPort(), true);
        tls.setUseClientMode(true);
        tls.startHandshake();
        in = new DataInputStream(tls.getInputStream());
        out = new DataOutputStream(new BufferedOutputStream(tls.getOutputStream(), 1 << 16));
        return r.type();
    }

    @Override
    public void close() throws IOException {
        if (tls != null) {
            tls.close();
        }
        socket.close();
    }
}
