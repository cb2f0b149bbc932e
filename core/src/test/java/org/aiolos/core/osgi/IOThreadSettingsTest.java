package org.aiolos.core.osgi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.aiolos.core.config.ConfigSchema;
import org.aiolos.core.config.InvalidConfigurationException;
import org.aiolos.core.config.MetatypeSchemas;
import org.junit.jupiter.api.Test;

/**
 * Malformed IOThread configurations (docs/reliability.md): each is rejected whole with
 * every error, each starting with its field. The schema is the Metatype bnd generates from
 * IOThreadConfig (a copy in the test resources: bnd writes it only into the jar; ShellIT
 * checks the copy against the bundle's). ShellIT checks the same through the shell.
 */
class IOThreadSettingsTest {
    private static final ConfigSchema SCHEMA = schema();

    private static ConfigSchema schema() {
        try (InputStream in = IOThreadSettingsTest.class.getResourceAsStream("IOThreadConfig-metatype.xml")) {
            return MetatypeSchemas.parse(in, IOThreadComponent.FACTORY_PID);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, Object> props(Object... kv) {
        Map<String, Object> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    private static List<String> errors(Object... kv) {
        return assertThrows(InvalidConfigurationException.class, () -> IOThreadSettings.parse(SCHEMA, props(kv), "io"))
                .errors();
    }

    private static void rejected(String field, Object... kv) {
        List<String> e = errors(kv);
        assertEquals(1, e.size(), e.toString());
        assertTrue(e.get(0).startsWith(field + ":"), "'" + e.get(0) + "' does not start with " + field);
    }

    @Test
    void malformedConfigurationsAreRejectedNamingTheField() {
        rejected("name", "name", "has space");
        for (String bad : new String[] {"..", ".", ".hidden", "-x"}) {
            rejected("name", "name", bad); // '..' made conf/org.aiolos.iothread-...cfg
        }
        rejected("name", "name", "n".repeat(201)); // its .cfg file is named after it
        assertTrue(errors("name", "n".repeat(201)).get(0).contains("at most 200 characters"));
        rejected("poll-max-ns", "poll-max-ns", -1L);
        rejected("poll-grow", "poll-grow", "-2");
        rejected("poll-shrink", "poll-shrink", -3);
        rejected("aio-max-batch", "aio-max-batch", "lots");
        rejected("poll-max-ns", "poll-max-ns", 1.5d);
        rejected("poll-max-ns", "poll-max-ns", "99999999999999999999");
        rejected("thread-pool-min/thread-pool-max", "thread-pool-min", 9, "thread-pool-max", 3);
        rejected("thread-pool-max", "thread-pool-max", 0);
        rejected("thread-pool-max", "thread-pool-max", 1L << 40);
        rejected("fdmon", "fdmon", "kqueue");
        rejected("aio-engine", "aio-engine", "posix");
    }

    /**
     * A file without {@code name=} is named after its PID, as it is: one that is no valid
     * name is refused saying where the name came from, where it was silently run as
     * {@code iothread-My_Thread} (which no shell command named it by).
     */
    @Test
    void aPidThatIsNoNameIsRefusedSayingWhereTheNameCameFrom() {
        Map<String, Object> p = props("service.pid", "org.aiolos.iothread~My Thread");
        String name = IOThreadComponent.defaultName(p);
        assertEquals("iothread-My Thread", name);
        List<String> e = assertThrows(InvalidConfigurationException.class,
                () -> IOThreadSettings.parse(SCHEMA, p, name)).errors();
        assertEquals(1, e.size(), e.toString());
        assertTrue(e.get(0).startsWith("name: ") && e.get(0).endsWith("got 'iothread-My Thread' (taken from the"
                + " configuration's PID, as it has no name=; set name= or rename its .cfg file)"), e.get(0));
        assertEquals("iothread-io2", IOThreadSettings.parse(SCHEMA, props("service.pid", "org.aiolos.iothread~io2"),
                IOThreadComponent.defaultName(props("service.pid", "org.aiolos.iothread~io2"))).name());
    }

    @Test
    void integersMustBeWrittenPlainly() {
        for (String bad : new String[] {"+5", "-0", "007", "5 000", "0x10"}) {
            rejected("poll-max-ns", "poll-max-ns", bad);
        }
        assertEquals(5, IOThreadSettings.parse(SCHEMA, props("poll-max-ns", " 5 "), "io").pollMaxNs());
    }

    @Test
    void everyErrorOfAnUpdateIsReportedAtOnceUnknownKeysWithTheKnownOnes() {
        List<String> e = errors("poll-max-ns", "+5", "frobnicate", "3", "thread-pool-min", "10", "thread-pool-max", "2");
        assertEquals(3, e.size(), e.toString());
        assertTrue(e.get(0).startsWith("frobnicate: unknown key; the known keys are aio-engine, aio-max-batch, backend-wait-ms, fdmon,"
                + " name, poll-grow, poll-max-ns, poll-shrink, thread-pool-max, thread-pool-min"), e.get(0));
        assertTrue(e.get(1).startsWith("poll-max-ns: write the integer plainly (5), got '+5'"), e.get(1));
        assertTrue(e.get(2).startsWith("thread-pool-min/thread-pool-max:"), e.get(2));
    }

    @Test
    void frameworkAndFileInstallKeysAreNotTheConfigurationsOwn() {
        IOThreadSettings s = IOThreadSettings.parse(SCHEMA, props("service.pid", "org.aiolos.iothread~io1",
                "service.factoryPid", "org.aiolos.iothread", "felix.fileinstall.filename", "file:/x.cfg",
                "component.id", 3L, ".private", "x"), "io");
        assertEquals("io", s.name());
    }

    @Test
    void absentOrBlankFieldsTakeTheMetatypeDefaultsAndHugeValuesAreKept() {
        IOThreadSettings s = IOThreadSettings.parse(SCHEMA, props("poll-grow", " ", "aio-max-batch", Long.MAX_VALUE),
                "io");
        assertEquals(32768, s.pollMaxNs());
        assertEquals(0, s.pollGrow());
        assertEquals(Long.MAX_VALUE, s.aioMaxBatch());
        assertEquals(64, s.threadPoolMax());
        assertEquals("", s.fdmon());
        assertEquals("io", s.name());
        assertEquals(IOThreadSettings.defaults(SCHEMA, "io"), IOThreadSettings.parse(SCHEMA, Map.of(), "io"));
    }
}
