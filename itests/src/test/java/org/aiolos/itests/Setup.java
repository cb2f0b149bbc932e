package org.aiolos.itests;

import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;

import java.io.File;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.ops4j.pax.exam.Option;

/** The container every Pax Exam test runs in: the distribution's bundles minus the console shell. */
final class Setup {
    private Setup() {
    }

    static Option[] container() {
        File dir = new File(System.getProperty("bundles.dir"));
        File[] jars = dir.listFiles((d, n) -> n.endsWith(".jar"));
        if (jars == null || jars.length == 0) {
            throw new IllegalStateException("no bundles in " + dir + " (run through mvn verify)");
        }
        Arrays.sort(jars);
        List<Option> options = new ArrayList<>();
        for (File jar : jars) {
            options.add(bundle(jar.toURI().toString()));
        }
        options.add(junitBundles());
        options.add(systemProperty("org.ops4j.pax.logging.DefaultServiceLog.level").value(System.getProperty("aiolos.it.log", "WARN")));
        return options.toArray(Option[]::new);
    }
}
