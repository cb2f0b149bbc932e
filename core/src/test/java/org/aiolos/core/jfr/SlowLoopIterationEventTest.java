package org.aiolos.core.jfr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.aiolos.api.AioTimer;
import org.aiolos.api.BottomHalf;
import org.aiolos.api.ClockType;
import org.aiolos.api.TimeScale;
import org.aiolos.core.AiolosContext;
import org.aiolos.core.TestContexts;
import org.aiolos.linux.EventFd;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * org.aiolos.SlowLoopIteration: recorded for an outermost iteration whose dispatch crossed
 * the threshold, with the phase that took the time; never for one below it. Slowness is
 * made with sleeps of known length, so the assertions hold however busy the machine is
 * (a sleep only lasts longer).
 */
class SlowLoopIterationEventTest {
    private static final String EVENT = "org.aiolos.SlowLoopIteration";
    private static final long SLEEP_MS = 60;

    private final TestContexts contexts = new TestContexts();
    @TempDir
    Path dir;

    @AfterEach
    void tearDown() {
        contexts.assertNoFailures();
        contexts.closeAll();
    }

    @Test
    void eachSlowPhaseIsRecordedWithItsCountsAndTime() throws Exception {
        AiolosContext ctx = contexts.open("slow-phases");
        ctx.poll(false);
        contexts.clocks().enable(ClockType.VIRTUAL, true);
        BottomHalf slowBh = ctx.newBottomHalf("slow-bh", () -> sleep(SLEEP_MS));
        EventFd efd = EventFd.open(false);
        ctx.setEventNotifier(efd, () -> {
            efd.testAndClear();
            sleep(SLEEP_MS);
        }, null, null);
        AioTimer slowTimer = ctx.newTimer(ClockType.VIRTUAL, TimeScale.NS, () -> sleep(SLEEP_MS));

        List<RecordedEvent> events = record(Duration.ofMillis(SLEEP_MS / 2), () -> {
            slowBh.schedule();
            ctx.poll(false);
            efd.set();
            ctx.poll(false);
            slowTimer.modNs(0);
            ctx.poll(false);
        });

        assertEquals(3, events.size(), "one event per slow iteration: " + events);
        RecordedEvent bh = events.get(0);
        RecordedEvent fd = events.get(1);
        RecordedEvent timer = events.get(2);
        for (RecordedEvent e : events) {
            assertEquals("slow-phases", e.getString("context"));
            assertTrue(e.getDuration().toMillis() >= SLEEP_MS, "duration covers the sleep: " + e);
        }
        assertEquals(1, bh.getLong("bottomHalves"));
        assertTrue(bh.getDuration("bottomHalfTime").toMillis() >= SLEEP_MS, bh.toString());
        assertEquals(1, fd.getLong("fdHandlers"));
        assertTrue(fd.getDuration("fdHandlerTime").toMillis() >= SLEEP_MS, fd.toString());
        assertEquals(1, timer.getLong("timerPasses"));
        assertTrue(timer.getDuration("timerTime").toMillis() >= SLEEP_MS, timer.toString());
        assertEquals(Thread.currentThread().getName(), bh.getThread().getJavaName(), "committed in the home thread");

        slowBh.delete();
        ctx.setEventNotifier(efd, null, null, null);
        efd.close();
    }

    @Test
    void aNestedPollCountsInsideTheIterationThatContainsIt() throws Exception {
        AiolosContext ctx = contexts.open("nested");
        ctx.poll(false);
        BottomHalf inner = ctx.newBottomHalf("inner", () -> sleep(SLEEP_MS));
        BottomHalf outer = ctx.newBottomHalf("outer", () -> {
            inner.schedule();
            ctx.poll(false); // nested: runs `inner` at depth 1
        });

        List<RecordedEvent> events = record(Duration.ofMillis(SLEEP_MS / 2), () -> {
            outer.schedule();
            ctx.poll(false);
        });

        assertEquals(1, events.size(), "only the outermost iteration is an event: " + events);
        assertEquals(2, events.get(0).getLong("bottomHalves"), "outer and the nested inner");
        assertTrue(events.get(0).getDuration().toMillis() >= SLEEP_MS);
        inner.delete();
        outer.delete();
    }

    @Test
    void iterationsBelowTheThresholdAreNotRecorded() throws Exception {
        AiolosContext ctx = contexts.open("fast");
        ctx.poll(false);
        BottomHalf bh = ctx.newBottomHalf("bh", () -> sleep(5));
        List<RecordedEvent> events = record(Duration.ofHours(1), () -> {
            for (int i = 0; i < 20; i++) {
                bh.schedule();
                ctx.poll(false);
            }
        });
        assertEquals(List.of(), events);
        bh.delete();
    }

    private List<RecordedEvent> record(Duration threshold, Runnable work) throws IOException {
        Path file = dir.resolve("loop.jfr");
        try (Recording r = new Recording()) {
            r.enable(EVENT).withThreshold(threshold);
            r.start();
            work.run();
            r.stop();
            r.dump(file);
        }
        return RecordingFile.readAllEvents(file).stream().filter(e -> e.getEventType().getName().equals(EVENT))
                .sorted(java.util.Comparator.comparing(RecordedEvent::getStartTime)).toList();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
