package org.aiolos.core.osgi;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.util.List;
import org.aiolos.api.diskio.DiskIoEngine;
import org.aiolos.core.AiolosContext;
import org.aiolos.core.TestContexts;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.osgi.framework.ServiceReference;

/** {@code aio:contexts} tells the context's own backends from the engines its users opened. */
class ContextListingTest {
    private final TestContexts contexts = new TestContexts();

    @AfterEach
    void closeAll() {
        contexts.closeAll();
    }

    @Test
    void anExportsOwnEngineIsNamedForTheExport() {
        AiolosContext ctx = contexts.open("listed");
        ServiceReference<?> ref = (ServiceReference<?>) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {ServiceReference.class}, (p, m, a) -> null);
        try (DiskIoEngine own = ctx.openDiskIo("native", "export 'd1'")) {
            String out = ContextListing.render(List.of(new ContextEntry(ctx, ref)));
            assertTrue(out.lines().anyMatch(l -> l.startsWith("  aio-engine=") && l.endsWith("(configured: best available)")),
                    out);
            assertTrue(out.lines().anyMatch(l -> l.startsWith("  aio-engine=") && l.contains("(configured: native)")
                    && l.endsWith(" for export 'd1'")), out);
        }
    }
}
