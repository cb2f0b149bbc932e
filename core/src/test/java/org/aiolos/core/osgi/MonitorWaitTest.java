package org.aiolos.core.osgi;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.reflect.Proxy;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import org.aiolos.api.BackendStatus;
import org.aiolos.core.AiolosContext;
import org.junit.jupiter.api.Test;

/**
 * What the shell reports after a backend switch: the outcome of the safe point, never the
 * instant inside it when the old backend is retired and the new one not yet open.
 */
class MonitorWaitTest {

    /** A context whose backends() returns the given statuses in turn, then the last one forever. */
    private static AiolosContext reporting(BackendStatus... states) {
        Deque<BackendStatus> left = new ArrayDeque<>(List.of(states));
        return (AiolosContext) Proxy.newProxyInstance(MonitorWaitTest.class.getClassLoader(),
                new Class<?>[] {AiolosContext.class}, (proxy, m, args) -> switch (m.getName()) {
                    case "backends" -> List.of(left.size() > 1 ? left.poll() : left.peek());
                    case "name" -> "t";
                    default -> throw new UnsupportedOperationException(m.getName());
                });
    }

    @Test
    void aRetiredBackendWithTheNewOneNotYetOpenIsNotTheOutcome() throws InterruptedException {
        AiolosContext ctx = reporting(
                new BackendStatus("aio-engine", "io_uring", "io_uring", null, 0, 0), // the switch not yet seen
                new BackendStatus("aio-engine", "threads", null, null, 1, 0), // inside the safe point
                new BackendStatus("aio-engine", "threads", "threads", null, 1, 0)); // the new one serves
        BackendStatus s = MonitorWait.applied(ctx, "aio-engine", "threads", 2_000);
        assertEquals("threads", s.serving());
    }

    @Test
    void nothingOpenAndNothingRetiringIsTheOutcome() throws InterruptedException {
        // No request ever opened an engine: the next one opens the new choice.
        AiolosContext ctx = reporting(new BackendStatus("aio-engine", "threads", null, null, 0, 0));
        BackendStatus s = MonitorWait.applied(ctx, "aio-engine", "threads", 2_000);
        assertEquals(null, s.serving());
        assertEquals("none open yet (configured: threads)", s.describe());
    }

    @Test
    void anExportsOwnEngineIsNotTheContextsOutcome() throws InterruptedException {
        AiolosContext ctx = (AiolosContext) Proxy.newProxyInstance(MonitorWaitTest.class.getClassLoader(),
                new Class<?>[] {AiolosContext.class}, (proxy, m, args) -> switch (m.getName()) {
                    case "backends" -> List.of(
                            new BackendStatus("aio-engine", "native", "native", null, 0, 0, "export 'd1'"),
                            new BackendStatus("aio-engine", "threads", "threads", null, 0, 0));
                    case "name" -> "t";
                    default -> throw new UnsupportedOperationException(m.getName());
                });
        BackendStatus s = MonitorWait.applied(ctx, "aio-engine", "threads", 2_000);
        assertEquals(null, s.user());
        assertEquals("threads", s.serving());
    }
}
