package org.aiolos.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.aiolos.linux.EventFd;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Nested polls from callbacks: QEMU's {@code aio_poll} and {@code aio_dispatch_ready_handlers}
 * in {@code util/aio-posix.c}, {@code aio_bh_poll} in {@code util/async.c}.
 */
class NestedPollTest {
    private final TestContexts contexts = new TestContexts();

    @AfterEach
    void tearDown() {
        contexts.assertNoFailures();
        contexts.closeAll();
    }

    @Test
    void aNestedPollStealsReadyHandlersFromItsParent() {
        AiolosContext ctx = contexts.open("steal");
        ctx.poll(false);
        List<String> calls = new ArrayList<>();
        try (EventFd a = EventFd.open(true); EventFd b = EventFd.open(true)) {
            ctx.setEventNotifier(a, () -> {
                a.testAndClear();
                calls.add("a");
                assertTrue(ctx.poll(false), "the nested poll finds b");
                calls.add("a-done");
            }, null, null);
            ctx.setEventNotifier(b, () -> {
                b.testAndClear();
                calls.add("b");
            }, null, null);
            assertTrue(ctx.poll(false));
            assertEquals(List.of("a", "b", "a-done"), calls, "b ran once, inside the nested poll");
            assertFalse(ctx.poll(false));
            ctx.setEventNotifier(a, null, null, null);
            ctx.setEventNotifier(b, null, null, null);
        }
    }

    @Test
    void handlersRemovedInANestedPollAreNotCalledByTheParent() {
        AiolosContext ctx = contexts.open("nested-remove");
        ctx.poll(false);
        List<String> calls = new ArrayList<>();
        try (EventFd a = EventFd.open(true); EventFd b = EventFd.open(true)) {
            ctx.setEventNotifier(a, () -> {
                a.testAndClear();
                calls.add("a");
                ctx.scheduleOneshot("remover", () -> ctx.setEventNotifier(b, null, null, null));
                ctx.poll(false);
            }, null, null);
            ctx.setEventNotifier(b, () -> calls.add("b"), null, null);
            ctx.poll(false);
            ctx.poll(false);
            assertFalse(calls.contains("b"), "removed by a nested BH before its turn: " + calls);
            ctx.setEventNotifier(a, null, null, null);
        }
    }

    @Test
    void deeplyNestedPolls() {
        AiolosContext ctx = contexts.open("deep");
        ctx.poll(false);
        int[] depth = {0};
        int[] max = {0};
        Runnable[] recurse = new Runnable[1];
        recurse[0] = () -> {
            depth[0]++;
            max[0] = Math.max(max[0], depth[0]);
            if (depth[0] < 50) {
                ctx.scheduleOneshot("deeper", recurse[0]);
                ctx.poll(false);
            }
            depth[0]--;
        };
        ctx.scheduleOneshot("start", recurse[0]);
        assertTrue(ctx.poll(false));
        assertEquals(50, max[0]);
        assertFalse(ctx.poll(false));
    }
}
