package org.aiolos.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** A .cfg file whose PID no bundle reads is named in a warning, with the names that are read. */
class ConfigurationNamesTest {
    private static final Path CONF = Path.of("/opt/aiolos/conf");
    private static final String UNDERSTOOD = "; the names understood are org.aiolos.iothread-NAME.cfg,"
            + " org.aiolos.nbd.export-NAME.cfg, org.aiolos.demo.echo.cfg";

    /** The Designates as bnd writes them into the core, nbd and demo jars. */
    private static ConfigurationNames shipped() {
        Set<String> pids = new TreeSet<>();
        Set<String> factories = new TreeSet<>();
        for (String xml : new String[] {
            "<metatype:MetaData xmlns:metatype=\"http://www.osgi.org/xmlns/metatype/v1.4.0\"><OCD id=\"x\"/>"
                    + "<Designate factoryPid=\"org.aiolos.iothread\"><Object ocdref=\"x\"/></Designate></metatype:MetaData>",
            "<Designate factoryPid=\"org.aiolos.nbd.export\">",
            "<Designate pid=\"org.aiolos.demo.echo\">", "<Designate pid=\"org.apache.felix.fileinstall\">"}) {
            ConfigurationNames.designates(xml, pids, factories);
        }
        assertEquals(Set.of("org.aiolos.demo.echo", "org.apache.felix.fileinstall"), pids);
        assertEquals(Set.of("org.aiolos.iothread", "org.aiolos.nbd.export"), factories);
        return new ConfigurationNames(pids, factories);
    }

    @Test
    void aTypoInThePidIsNamedWithTheNamesThatAreUnderstood() {
        ConfigurationNames names = shipped();
        for (String[] typo : new String[][] {
            {"org.aiolos.iothread.cfg", "org.aiolos.iothread"},
            {"org.aiolos.iothreads-io6.cfg", "org.aiolos.iothreads"},
            {"org.aiolos.nbd.export.cfg", "org.aiolos.nbd.export"},
            {"org.aiolos.nbd.exports-x2.cfg", "org.aiolos.nbd.exports"},
            {"org.aiolos.demo.echo-2.cfg", "org.aiolos.demo.echo"}}) {
            assertEquals(CONF.resolve(typo[0]) + ": no Aiolos bundle reads configuration '" + typo[1] + "', so this"
                    + " file does nothing" + UNDERSTOOD, names.warning(CONF, typo[0]));
        }
    }

    @Test
    void theNamesBundlesReadAndOtherNamespacesPass() {
        ConfigurationNames names = shipped();
        for (String ok : new String[] {"org.aiolos.iothread-io1.cfg", "org.aiolos.nbd.export-scratch.cfg",
            "org.aiolos.nbd.export-a-b.cfg", "org.aiolos.demo.echo.cfg", "org.apache.felix.x.cfg",
            "logging.properties"}) {
            assertNull(names.warning(CONF, ok), ok);
        }
    }
}
