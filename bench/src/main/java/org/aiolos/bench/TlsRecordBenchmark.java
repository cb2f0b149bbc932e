package org.aiolos.bench;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The TLS record work of one 4 KiB NBD request at QD1, both ends in this thread on the
 * JDK's {@link SSLEngine} (TLS 1.3, in memory, no socket): the client seals the request,
 * the server opens it and seals the reply, the client opens the reply. {@code write}
 * carries the 4 KiB in the request, {@code read} in the reply.
 *
 * <p>{@code serverBuffers} is what the server's TLS session keeps its ciphertext and
 * plaintext in: {@code heap} (what {@code TlsStream} does: heap buffers for the engine, each
 * socket read and write copied through native memory, as a non-critical downcall needs) or
 * {@code direct} (off-heap segments viewed as direct buffers, which the socket reads into
 * and writes from; what it did before). Two more values run on request ({@code -p
 * serverBuffers=...}): {@code heap-no-copy} (heap buffers the socket would use directly) and
 * {@code heap-inbound} (heap for what the server reads, direct for what it writes). The
 * client's buffers are heap in all, so the differences are the server's. Every variant
 * copies the request's plaintext into, and takes the reply's from, native memory, as the
 * server's disk buffers are. Run with {@code -prof gc}: the JDK's AES-GCM takes different
 * paths for direct and heap buffers.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
@State(Scope.Thread)
public class TlsRecordBenchmark {
    private static final int REQUEST = 28;
    private static final int SIMPLE_REPLY = 16;
    private static final int DATA = 4096;

    @Param({"write", "read"})
    public String rw;

    @Param({"heap", "direct"})
    public String serverBuffers;

    private Path dir;
    private Arena arena;
    private SSLEngine client;
    private SSLEngine server;
    private ByteBuffer clientApp;
    private ByteBuffer clientNet;
    private ByteBuffer clientIn;
    private ByteBuffer serverIn;
    private ByteBuffer serverApp;
    private ByteBuffer serverOut;
    private ByteBuffer serverReply;
    private ByteBuffer wire;
    /** Socket reads and writes are copied through native memory (the engine's buffer of that side is heap). */
    private boolean stagedIn;
    private boolean stagedOut;
    /** The socket side of a staged session (what read(2) fills and write(2) sends). */
    private ByteBuffer socketIn;
    private ByteBuffer socketOut;
    /** The disk buffers: where a request's plaintext goes and a reply's comes from. */
    private ByteBuffer disk;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        dir = Files.createTempDirectory("aiolos-tls-bench");
        Path store = dir.resolve("bench.p12");
        char[] pass = "bench-pass".toCharArray();
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "bench", "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=localhost", "-validity", "2", "-keystore", store.toString(),
                "-storetype", "PKCS12", "-storepass", new String(pass)).inheritIO().start();
        if (keytool.waitFor() != 0) {
            throw new IllegalStateException("keytool failed");
        }
        KeyStore ks = KeyStore.getInstance(store.toFile(), pass);
        KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
        kmf.init(ks, pass);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(ks);
        SSLContext ssl = SSLContext.getInstance("TLSv1.3");
        ssl.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        client = ssl.createSSLEngine("localhost", 10809);
        client.setUseClientMode(true);
        server = ssl.createSSLEngine();
        server.setUseClientMode(false);

        int packet = server.getSession().getPacketBufferSize();
        int app = server.getSession().getApplicationBufferSize();
        arena = Arena.ofConfined();
        // {engine's inbound buffers on the heap, its outbound buffer on the heap, socket I/O copied}
        boolean[] kind = switch (serverBuffers) {
            case "heap" -> new boolean[] {true, true, true};
            case "direct" -> new boolean[] {false, false, false};
            case "heap-no-copy" -> new boolean[] {true, true, false};
            case "heap-inbound" -> new boolean[] {true, false, true};
            default -> throw new IllegalArgumentException(
                    "serverBuffers: heap, direct, heap-no-copy or heap-inbound, not " + serverBuffers);
        };
        stagedIn = kind[2] && kind[0];
        stagedOut = kind[2] && kind[1];
        serverIn = buffer(kind[0], 2 * packet);
        serverApp = buffer(kind[0], app);
        serverOut = buffer(kind[1], 4 * packet);
        serverReply = buffer(false, SIMPLE_REPLY + DATA);
        socketIn = buffer(false, 2 * packet);
        socketOut = buffer(false, 4 * packet);
        disk = buffer(false, REQUEST + DATA);
        clientApp = ByteBuffer.allocate(app);
        clientNet = ByteBuffer.allocate(4 * packet);
        clientIn = ByteBuffer.allocate(app);
        wire = ByteBuffer.allocate(4 * packet);
        handshake();
    }

    private ByteBuffer buffer(boolean heap, int size) {
        return heap ? ByteBuffer.allocate(size) : arena.allocate(size, 8).asByteBuffer();
    }

    private void handshake() throws SSLException {
        client.beginHandshake();
        server.beginHandshake();
        ByteBuffer toServer = ByteBuffer.allocate(1 << 16);
        ByteBuffer toClient = ByteBuffer.allocate(1 << 16);
        ByteBuffer sink = ByteBuffer.allocate(1 << 16);
        for (int i = 0; i < 100 && !(done(client) && done(server)); i++) {
            step(client, toClient, toServer, sink);
            step(server, toServer, toClient, sink);
        }
        if (!(done(client) && done(server))) {
            throw new IllegalStateException("handshake did not finish");
        }
        // Drain what TLS 1.3 sends after the handshake (session tickets) to the client.
        step(client, toClient, toServer, sink);
    }

    private static boolean done(SSLEngine e) {
        SSLEngineResult.HandshakeStatus s = e.getHandshakeStatus();
        return s == SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING || s == SSLEngineResult.HandshakeStatus.FINISHED;
    }

    /** Lets {@code e} read what was sent to it and send what it has to say. */
    private static void step(SSLEngine e, ByteBuffer in, ByteBuffer out, ByteBuffer sink) throws SSLException {
        while (true) {
            switch (e.getHandshakeStatus()) {
                case NEED_TASK -> {
                    for (Runnable t = e.getDelegatedTask(); t != null; t = e.getDelegatedTask()) {
                        t.run();
                    }
                }
                case NEED_WRAP -> e.wrap(ByteBuffer.allocate(0), out);
                case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                    in.flip();
                    SSLEngineResult r = e.unwrap(in, sink);
                    in.compact();
                    sink.clear();
                    if (r.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW || r.bytesConsumed() == 0) {
                        return;
                    }
                }
                default -> {
                    // Leftover records (tickets) after the handshake.
                    in.flip();
                    while (in.hasRemaining()) {
                        if (e.unwrap(in, sink).bytesConsumed() == 0) {
                            break;
                        }
                        sink.clear();
                    }
                    in.compact();
                    return;
                }
            }
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        arena.close();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** One request and its reply, sealed and opened at both ends. Returns the bytes the client got. */
    @Benchmark
    public int requestAndReply() throws SSLException {
        boolean write = rw.equals("write");
        // client -> server
        clientApp.clear().limit(REQUEST + (write ? DATA : 0));
        clientNet.clear();
        client.wrap(clientApp, clientNet);
        clientNet.flip();
        serverIn.clear();
        if (stagedIn) {
            socketIn.clear();
            socketIn.put(clientNet).flip(); // the kernel's copy
            serverIn.put(socketIn).flip();
        } else {
            serverIn.put(clientNet).flip(); // the kernel's copy
        }
        serverApp.clear();
        server.unwrap(serverIn, serverApp);
        serverApp.flip();
        disk.clear();
        disk.put(serverApp);
        // server -> client
        serverReply.clear().limit(SIMPLE_REPLY + (write ? 0 : DATA));
        serverOut.clear();
        server.wrap(serverReply, serverOut);
        serverOut.flip();
        ByteBuffer sent = serverOut;
        if (stagedOut) {
            socketOut.clear();
            socketOut.put(serverOut).flip();
            sent = socketOut;
        }
        wire.clear();
        wire.put(sent).flip(); // the kernel's copy
        clientIn.clear();
        client.unwrap(wire, clientIn);
        return clientIn.position();
    }
}
