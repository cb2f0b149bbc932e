package org.aiolos.core.coroutine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import org.aiolos.api.AioContext;
import org.aiolos.api.coroutine.CoLockable;
import org.aiolos.api.coroutine.CoMutex;
import org.aiolos.api.coroutine.CoQueue;
import org.aiolos.api.coroutine.CoRwLock;
import org.aiolos.api.coroutine.Coroutine;
import org.aiolos.api.coroutine.Coroutines;
import org.aiolos.testkit.Upcall;

/**
 * CoMutex, CoQueue and CoRwLock in one context (QEMU's {@code util/qemu-coroutine-lock.c}),
 * on both backends.
 */
class CoLocksTest {

    // ------------------------------------------------------------------ CoMutex

    /** As QEMU's test_co_mutex: the woken waiter runs when the unlocker yields. */
    @BothBackends
    void mutexHandsOverToTheWaiterWhenTheUnlockerYields(String backend) {
        CoTests.use(backend);
        CoMutex m = Coroutines.newMutex();
        List<String> log = new ArrayList<>();
        Coroutine a = Coroutines.create("A", () -> {
            m.lock();
            log.add("A locked");
            Coroutines.yieldNow();
            m.assertLocked();
            m.unlock();
            log.add("A unlocked");
            Coroutines.yieldNow();
            log.add("A done");
        });
        Coroutine b = Coroutines.create("B", () -> {
            m.lock();
            log.add("B locked");
            m.unlock();
        });
        a.enter();
        b.enter();
        assertEquals(List.of("A locked"), log, "B waits for the mutex");
        assertTrue(m.isLocked());
        a.enter();
        assertEquals(List.of("A locked", "A unlocked", "B locked"), log);
        assertTrue(b.isFinished());
        assertFalse(m.isLocked());
        a.enter();
        assertTrue(a.isFinished());
    }

    @BothBackends
    void mutexServesWaitersInArrivalOrder(String backend) {
        CoTests.use(backend);
        CoMutex m = Coroutines.newMutex();
        List<Integer> order = new ArrayList<>();
        Coroutine holder = Coroutines.create(() -> {
            m.lock();
            Coroutines.yieldNow();
            m.unlock();
        });
        holder.enter();
        List<Coroutine> waiters = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            int n = i;
            Coroutine w = Coroutines.create(() -> {
                m.lock();
                order.add(n);
                Coroutines.yieldNow(); // hold it across a yield
                m.unlock();
            });
            waiters.add(w);
            w.enter();
        }
        holder.enter();
        for (int round = 0; round < 10; round++) {
            waiters.get(order.get(order.size() - 1)).enter();
        }
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), order);
        assertFalse(m.isLocked());
    }

    @BothBackends
    void mutexMisuseFailsWithTheCause(String backend) {
        CoTests.use(backend);
        CoMutex m = Coroutines.newMutex();
        IllegalStateException outside = assertThrows(IllegalStateException.class, m::lock);
        assertTrue(outside.getMessage().contains("from a coroutine"), outside.getMessage());
        IllegalStateException notLocked = assertThrows(IllegalStateException.class,
                () -> Coroutines.create("u", m::unlock).enter());
        assertTrue(notLocked.getMessage().contains("not locked"), notLocked.getMessage());
        Coroutine owner = Coroutines.create("owner", () -> {
            m.lock();
            Coroutines.yieldNow();
            m.unlock();
        });
        owner.enter();
        IllegalStateException other = assertThrows(IllegalStateException.class,
                () -> Coroutines.create("thief", m::unlock).enter());
        assertTrue(other.getMessage().contains("held by coroutine 'owner'"), other.getMessage());
        IllegalStateException assertion = assertThrows(IllegalStateException.class,
                () -> Coroutines.create("checker", m::assertLocked).enter());
        assertTrue(assertion.getMessage().contains("'owner'"), assertion.getMessage());
        owner.enter();
        assertFalse(m.isLocked());
    }

    @BothBackends
    void finishingWhileHoldingALockFails(String backend) {
        CoTests.use(backend);
        CoMutex m = Coroutines.newMutex();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Coroutines.create("leaker", m::lock).enter());
        assertTrue(e.getMessage().contains("'leaker' finished while holding 1"), e.getMessage());
        CoRwLock rw = Coroutines.newRwLock();
        IllegalStateException r = assertThrows(IllegalStateException.class,
                () -> Coroutines.create("reader-leak", rw::readLock).enter());
        assertTrue(r.getMessage().contains("holding 1"), r.getMessage());
        // Everything else keeps working.
        boolean[] ok = new boolean[1];
        Coroutines.create(() -> ok[0] = true).enter();
        assertTrue(ok[0]);
    }

    // ------------------------------------------------------------------ CoQueue

    @BothBackends
    void queueWakesInOrderAndEnterNextRunsBeforeReturning(String backend) {
        CoTests.use(backend);
        CoQueue q = Coroutines.newQueue();
        List<String> log = new ArrayList<>();
        for (String n : List.of("w1", "w2", "w3")) {
            Coroutines.create(n, () -> {
                q.wait(null);
                log.add(n);
            }).enter();
        }
        Coroutines.create("front", () -> {
            q.waitAtFront(null);
            log.add("front");
        }).enter();
        assertFalse(q.isEmpty());
        assertTrue(q.enterNext(null));
        assertEquals(List.of("front"), log, "outside a coroutine the woken one runs before enterNext returns");
        Coroutines.create("waker", () -> {
            assertTrue(q.next());
            log.add("waker yields");
        }).enter();
        assertEquals(List.of("front", "waker yields", "w1"), log, "inside a coroutine it runs after the caller");
        q.enterAll(null);
        assertEquals(List.of("front", "waker yields", "w1", "w2", "w3"), log);
        assertTrue(q.isEmpty());
        assertFalse(q.next());
        assertFalse(q.enterNext(null));
    }

    @BothBackends
    void queueWaitReleasesAndRetakesTheLock(String backend) {
        CoTests.use(backend);
        CoMutex m = Coroutines.newMutex();
        CoQueue q = Coroutines.newQueue();
        List<String> log = new ArrayList<>();
        boolean[] ready = new boolean[1];
        Coroutine consumer = Coroutines.create("consumer", () -> {
            m.lock();
            while (!ready[0]) {
                q.wait(m);
            }
            m.assertLocked();
            log.add("consumed");
            m.unlock();
        });
        consumer.enter();
        assertFalse(m.isLocked(), "wait released the mutex");
        Coroutine producer = Coroutines.create("producer", () -> {
            m.lock();
            ready[0] = true;
            q.restartAll();
            log.add("produced");
            m.unlock();
        });
        producer.enter();
        assertEquals(List.of("produced", "consumed"), log);
        assertTrue(consumer.isFinished() && producer.isFinished());
        // A thread lock works too (not held across the yield).
        ReentrantLock lock = new ReentrantLock();
        CoLockable l = CoLockable.of(lock);
        Coroutine w = Coroutines.create(() -> {
            l.lock();
            q.wait(l);
            log.add("thread-lock waiter");
            l.unlock();
        });
        w.enter();
        assertFalse(lock.isLocked());
        l.lock();
        assertTrue(q.enterNext(l));
        l.unlock();
        assertTrue(w.isFinished());
        assertEquals("thread-lock waiter", log.get(log.size() - 1));
    }

    // ------------------------------------------------------------------ CoRwLock

    @BothBackends
    void readersShareWritersExclude(String backend) {
        CoTests.use(backend);
        CoRwLock rw = Coroutines.newRwLock();
        List<String> log = new ArrayList<>();
        Coroutine r1 = reader(rw, "r1", log);
        Coroutine r2 = reader(rw, "r2", log);
        r1.enter();
        r2.enter();
        assertEquals(List.of("r1 in", "r2 in"), log, "two readers at once");
        Coroutine w = Coroutines.create("w", () -> {
            rw.writeLock();
            log.add("w in");
            Coroutines.yieldNow();
            rw.unlock();
        });
        w.enter();
        Coroutine r3 = reader(rw, "r3", log);
        r3.enter();
        assertEquals(List.of("r1 in", "r2 in"), log, "the writer waits, and a new reader queues behind it");
        r1.enter();
        r2.enter();
        assertEquals(List.of("r1 in", "r2 in", "w in"), log);
        w.enter();
        assertEquals(List.of("r1 in", "r2 in", "w in", "r3 in"), log);
        r3.enter();
        assertTrue(r1.isFinished() && r2.isFinished() && w.isFinished() && r3.isFinished());
    }

    private static Coroutine reader(CoRwLock rw, String name, List<String> log) {
        return Coroutines.create(name, () -> {
            rw.readLock();
            log.add(name + " in");
            Coroutines.yieldNow();
            rw.unlock();
        });
    }

    @BothBackends
    void queuedReadersWakeOneAfterAnother(String backend) {
        CoTests.use(backend);
        CoRwLock rw = Coroutines.newRwLock();
        List<String> log = new ArrayList<>();
        Coroutine w = Coroutines.create(() -> {
            rw.writeLock();
            Coroutines.yieldNow();
            rw.unlock();
        });
        w.enter();
        List<Coroutine> readers = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Coroutine r = reader(rw, "r" + i, log);
            readers.add(r);
            r.enter();
        }
        assertTrue(log.isEmpty());
        w.enter();
        assertEquals(List.of("r0 in", "r1 in", "r2 in", "r3 in"), log, "each woken reader wakes the next");
        readers.forEach(Coroutine::enter);
        assertTrue(readers.stream().allMatch(Coroutine::isFinished));
    }

    @BothBackends
    void upgradeAndDowngrade(String backend) {
        CoTests.use(backend);
        CoRwLock rw = Coroutines.newRwLock();
        List<String> log = new ArrayList<>();
        Coroutine other = reader(rw, "other", log);
        Coroutine up = Coroutines.create("upgrader", () -> {
            rw.readLock();
            log.add("up reading");
            Coroutines.yieldNow();
            rw.upgrade();
            log.add("up writing");
            rw.downgrade();
            log.add("up reading again");
            Coroutines.yieldNow();
            rw.unlock();
        });
        up.enter();
        other.enter();
        up.enter();
        assertEquals(List.of("up reading", "other in"), log, "upgrade waits for the other reader");
        other.enter();
        assertEquals(List.of("up reading", "other in", "up writing", "up reading again"), log);
        Coroutine sole = Coroutines.create("sole", () -> {
            rw.readLock();
            rw.upgrade(); // the only reader, nobody queued: immediate
            log.add("sole writing");
            rw.unlock();
        });
        up.enter();
        sole.enter();
        assertEquals("sole writing", log.get(log.size() - 1));
        assertTrue(up.isFinished() && sole.isFinished());
    }

    @BothBackends
    void rwLockMisuseFails(String backend) {
        CoTests.use(backend);
        CoRwLock rw = Coroutines.newRwLock();
        IllegalStateException unlock = assertThrows(IllegalStateException.class,
                () -> Coroutines.create(rw::unlock).enter());
        assertTrue(unlock.getMessage().contains("not locked"), unlock.getMessage());
        IllegalStateException up = assertThrows(IllegalStateException.class,
                () -> Coroutines.create(rw::upgrade).enter());
        assertTrue(up.getMessage().contains("not read-locked"), up.getMessage());
        IllegalStateException down = assertThrows(IllegalStateException.class,
                () -> Coroutines.create(rw::downgrade).enter());
        assertTrue(down.getMessage().contains("not write-locked"), down.getMessage());
        assertThrows(IllegalStateException.class, rw::readLock);
        // Still usable.
        boolean[] ok = new boolean[1];
        Coroutines.create(() -> {
            rw.writeLock();
            ok[0] = true;
            rw.unlock();
        }).enter();
        assertTrue(ok[0]);
    }

    @BothBackends
    void pinnedLockWaitFailsWithoutQueueing(String backend) {
        CoTests.use(backend);
        AioContext none = AioContext.current();
        assertEquals(null, none);
        CoMutex m = Coroutines.newMutex();
        Coroutine holder = Coroutines.create(() -> {
            m.lock();
            Coroutines.yieldNow();
            m.unlock();
        });
        holder.enter();
        Object[] outcome = new Object[1];
        Coroutine pinned = Coroutines.create("pinned-locker", () -> outcome[0] = Upcall.callThroughNative(() -> {
            try {
                m.lock();
                m.unlock();
                return "locked";
            } catch (IllegalStateException e) {
                return e;
            }
        }));
        pinned.enter();
        if (backend.equals(Backend.CONTINUATION)) {
            assertTrue(outcome[0] instanceof IllegalStateException e && e.getMessage().contains("native frame"),
                    String.valueOf(outcome[0]));
            assertTrue(pinned.isFinished());
            holder.enter();
            assertFalse(m.isLocked(), "the failed lock left no waiter behind");
        } else {
            holder.enter(); // hands the mutex to the waiter, which runs below its native frame
            assertEquals("locked", outcome[0]);
            assertFalse(m.isLocked());
        }
    }
}
