package org.aiolos.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.Test;

/**
 * The assembled distribution as a user runs it: {@code bundles/target/aiolos/bin/aiolos}
 * with the Gogo shell reading a pipe, its default workload (the NBD export "scratch" of
 * {@code conf/}) reached with {@code qemu-img info} and {@code nbdinfo}, every bundle
 * active, then {@code stop 0}.
 *
 * <p>The shipped {@code conf/} is used as it is except for the port, moved to a free one
 * (10809 may be taken by another server on the machine), and the framework cache goes to a
 * temporary folder, so a distribution someone runs meanwhile is not disturbed.
 */
public class DistributionIT {
    private static final long SCRATCH_BYTES = 64L << 20;

    @Test
    public void theDefaultExportAnswersQemuImgAndNbdinfo() throws Exception {
        Tools.requireAll(List.of("qemu-img", "nbdinfo", "truncate"));
        Path dist = Path.of(System.getProperty("aiolos.dist"));
        assertTrue("no distribution at " + dist + " (the bundles module builds it)",
                Files.isRegularFile(dist.resolve("bin/aiolos")));
        Path shipped = dist.resolve("conf/org.aiolos.nbd.export-scratch.cfg");
        String cfg = Files.readString(shipped);
        assertTrue(cfg, cfg.contains("\nport=10809\n") && cfg.contains("\niothread=io1\n")
                && cfg.contains("\naddress=127.0.0.1\n"));

        Path tmp = Files.createTempDirectory("aiolos-dist-it");
        try {
            int port = freePort();
            Path conf = Files.createDirectory(tmp.resolve("conf"));
            try (Stream<Path> files = Files.list(dist.resolve("conf"))) {
                for (Path f : files.toList()) {
                    Files.copy(f, conf.resolve(f.getFileName()));
                }
            }
            Files.writeString(conf.resolve(shipped.getFileName()), cfg.replace("\nport=10809\n", "\nport=" + port + "\n"));
            ProcessBuilder pb = new ProcessBuilder("sh", dist.resolve("bin/aiolos").toString());
            pb.environment().put("AIOLOS_CONF", conf.toString());
            pb.environment().put("AIOLOS_JAVA_OPTS", "-Daiolos.cache=" + tmp.resolve("cache"));
            pb.redirectErrorStream(true);
            Process p = pb.start();
            Output out = new Output(p.getInputStream());
            try (OutputStream shell = p.getOutputStream()) {
                String uri = "nbd://127.0.0.1:" + port + "/scratch";
                out.await("the export announced", 60, "nbd: export 'scratch' of .* at " + Pattern.quote(uri));
                assertTrue("the scratch image was created: " + out, Files.size(dist.resolve("work/scratch.img"))
                        == SCRATCH_BYTES);

                String info = Tools.run(30, "qemu-img", "info", "--output=json", uri);
                System.out.println("DistributionIT: qemu-img info " + uri + "\n" + info);
                assertTrue(info, info.contains("\"virtual-size\": " + SCRATCH_BYTES));
                String nbdinfo = Tools.run(30, "nbdinfo", uri);
                System.out.println("DistributionIT: nbdinfo " + uri + "\n" + nbdinfo);
                assertTrue(nbdinfo, nbdinfo.contains("export=\"scratch\"") && nbdinfo.contains("export-size: "
                        + SCRATCH_BYTES));

                shell.write("lb\nnbd:list\n".getBytes(StandardCharsets.UTF_8));
                shell.flush();
                Matcher lb = out.await("lb and nbd:list", 30, "(?s)START LEVEL.*?(?=\\n[^\\n]*NAME\\s+STATE)");
                List<String> bundleLines = lb.group().lines().filter(l -> l.matches("\\s*\\d+\\|.*")).toList();
                assertTrue(lb.group(), bundleLines.size() >= 20);
                for (String l : bundleLines) {
                    assertTrue("not active: " + l + "\n" + out, l.contains("|Active"));
                }
                out.await("nbd:list shows scratch", 30, "scratch\\s+serving\\s+io1\\s+127\\.0\\.0\\.1:" + port);

                shell.write("stop 0\n".getBytes(StandardCharsets.UTF_8));
                shell.flush();
                assertTrue("the distribution stopped within 30 s after stop 0:\n" + out, p.waitFor(30, TimeUnit.SECONDS));
                assertEquals(out.toString(), 0, p.exitValue());
            } finally {
                p.destroyForcibly();
                System.out.println("DistributionIT: the distribution's console:\n" + out);
            }
        } finally {
            try (Stream<Path> all = Files.walk(tmp)) {
                all.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** The process's console, collected as it comes, searched with patterns. */
    private static final class Output {
        private final ByteArrayOutputStream buf = new ByteArrayOutputStream();

        Output(InputStream in) {
            Thread.ofPlatform().daemon().start(() -> {
                byte[] b = new byte[8192];
                try {
                    for (int n; (n = in.read(b)) > 0; ) {
                        synchronized (buf) {
                            buf.write(b, 0, n);
                        }
                    }
                } catch (IOException ended) {
                    // the process ended
                }
            });
        }

        Matcher await(String what, long timeoutS, String regex) throws InterruptedException {
            Pattern pattern = Pattern.compile(regex);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutS);
            while (true) {
                Matcher m = pattern.matcher(toString());
                if (m.find()) {
                    return m;
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("timed out after " + timeoutS + " s waiting for " + what
                            + " (/" + regex + "/) in:\n" + this);
                }
                Thread.sleep(50);
            }
        }

        @Override
        public String toString() {
            synchronized (buf) {
                return buf.toString(StandardCharsets.UTF_8);
            }
        }
    }
}
