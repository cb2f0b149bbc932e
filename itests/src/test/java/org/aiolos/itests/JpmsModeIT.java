package org.aiolos.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.Test;

/**
 * The same jars without OSGi: {@code java --module-path ... -m org.aiolos.demo/...Demo},
 * as the README shows. The fd monitors must come from ServiceLoader, as named modules.
 */
public class JpmsModeIT {

    @Test
    public void theDemoRunsOnThePlainModulePath() throws Exception {
        // The folder of bundles itself, as in the README (there: the distribution's bundle/):
        // the OSGi runtime jars in it are never resolved, core needs them only statically.
        String modulePath = new File(System.getProperty("bundles.dir")).getPath();
        String java = new File(System.getProperty("java.home"), "bin/java").getPath();
        Process p = new ProcessBuilder(java, "--enable-native-access=org.aiolos.linux",
                "--add-exports", "java.base/jdk.internal.vm=org.aiolos.core", "--module-path", modulePath,
                "-m", "org.aiolos.demo/org.aiolos.demo.jpms.Demo").redirectErrorStream(true).start();
        assertTrue("the demo finished within 30 s", p.waitFor(30, TimeUnit.SECONDS));
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        System.out.println("JpmsModeIT: java --module-path " + modulePath
                + " -m org.aiolos.demo/org.aiolos.demo.jpms.Demo\n" + out);
        assertEquals(out, 0, p.exitValue());
        assertTrue(out, out.contains("module org.aiolos.demo (named: true)"));
        assertTrue(out, out.contains("module org.aiolos.core (named: true)"));
        for (String[] m : new String[][] {{"poll", "org.aiolos.fdmon.poll"}, {"epoll", "org.aiolos.fdmon.epoll"},
                {"io_uring", "org.aiolos.fdmon.iouring"}}) {
            assertTrue(out, out.contains("fd monitor found by ServiceLoader: " + m[0] + " from module " + m[1]));
        }
        assertTrue(out, out.contains("4 callbacks ran"));
        assertTrue(out, out.contains("coroutine backend continuation"));
        assertTrue(out, out.contains("JPMS mode OK"));
        assertTrue("no native-access warning: " + out, !out.contains("WARNING"));
    }

    /**
     * Core depends on no backend: with only the api, linux, diskio and core modules (and the
     * demo's main) a context runs on core's built-in poll monitor.
     */
    @Test
    public void coreRunsWithOnlyApiAndLinuxBesideIt() throws Exception {
        File bundles = new File(System.getProperty("bundles.dir"));
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("jpms-core-only");
        try {
            for (String name : new String[] {"aiolos-api", "aiolos-linux", "aiolos-diskio", "aiolos-core", "aiolos-demo"}) {
                File[] jars = bundles.listFiles((d, n) -> n.equals(name + ".jar")
                        || (n.startsWith(name + "-") && Character.isDigit(n.charAt(name.length() + 1))));
                assertEquals(name + " in " + bundles, 1, jars.length);
                java.nio.file.Files.copy(jars[0].toPath(), dir.resolve(jars[0].getName()));
            }
            String java = new File(System.getProperty("java.home"), "bin/java").getPath();
            Process p = new ProcessBuilder(java, "--enable-native-access=org.aiolos.linux",
                    "--add-exports", "java.base/jdk.internal.vm=org.aiolos.core", "--module-path", dir.toString(),
                    "-m", "org.aiolos.demo/org.aiolos.demo.jpms.Demo").redirectErrorStream(true).start();
            assertTrue("the demo finished within 30 s", p.waitFor(30, TimeUnit.SECONDS));
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            System.out.println("JpmsModeIT (api, linux, diskio, core, demo only):\n" + out);
            assertEquals(out, 0, p.exitValue());
            assertTrue(out, !out.contains("fd monitor found by ServiceLoader"));
            assertTrue(out, out.contains("on fd monitor poll"));
            assertTrue(out, out.contains("JPMS mode OK"));
        } finally {
            try (var files = java.nio.file.Files.list(dir)) {
                for (java.nio.file.Path f : files.toList()) {
                    java.nio.file.Files.delete(f);
                }
            }
            java.nio.file.Files.delete(dir);
        }
    }
}
