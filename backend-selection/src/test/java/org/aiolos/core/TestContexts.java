package org.aiolos.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.aiolos.core.clock.ClockGroup;

/**
 * Builds contexts for tests: a private clock group (so a test drives VIRTUAL time alone),
 * no fd-monitor providers (the built-in poll monitor), and a failure handler that records
 * what callbacks threw so tests can assert on it.
 */
public final class TestContexts {
    private final List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
    private final ClockGroup clocks = new ClockGroup();
    private final List<AiolosContext> opened = new ArrayList<>();

    public ContextOptions options(String name) {
        return ContextOptions.defaults(name).withClocks(clocks).withFdMonitors(new FdMonitorProviders())
                .withFailureHandler((ctx, source, failure) -> failures.add(failure));
    }

    public AiolosContext open(String name) {
        AiolosContext ctx = Aiolos.newContext(options(name));
        opened.add(ctx);
        return ctx;
    }

    public ClockGroup clocks() {
        return clocks;
    }

    public List<Throwable> failures() {
        return failures;
    }

    /** Fails the test if a callback threw. */
    public void assertNoFailures() {
        if (!failures.isEmpty()) {
            AssertionError e = new AssertionError("callbacks threw: " + failures);
            failures.forEach(e::addSuppressed);
            throw e;
        }
    }

    /** Closes what {@link #open} opened that is still open. */
    public void closeAll() {
        for (AiolosContext ctx : opened) {
            if (!((org.aiolos.core.loop.ContextImpl) ctx).isClosed()) {
                ctx.close();
            }
        }
        opened.clear();
    }

    /** Runs non-blocking polls until one makes no progress. */
    public static void drain(AiolosContext ctx) {
        for (int i = 0; i < 100 && ctx.poll(false); i++) {
            // keep going
        }
        assertEquals(false, ctx.poll(false), "context did not settle");
    }
}
