package org.aiolos.nbd.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The export budget's queue: first come, first served, like a fair semaphore. */
class PayloadBudgetTest {
    private static final long MIB = 1 << 20;

    private final PayloadBudget<String> budget = new PayloadBudget<>(256 * MIB);
    /** The owners whose wake ran, in the order it ran. */
    private final List<String> woken = new ArrayList<>();

    private PayloadBudget.Share<String> share(String owner) {
        return new PayloadBudget.Share<>(owner, () -> woken.add(owner));
    }

    @Test
    void waitersAreServedInTheOrderTheyCame() {
        PayloadBudget.Share<String> holder = share("holder");
        assertTrue(budget.takeOrQueue(holder, 256 * MIB));
        List<PayloadBudget.Share<String>> waiters = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            PayloadBudget.Share<String> w = share("w" + i);
            assertFalse(budget.takeOrQueue(w, 64 * MIB));
            waiters.add(w);
        }
        assertEquals(4, budget.waiting());
        assertEquals(3, budget.waitingOtherThan(waiters.get(2)));

        budget.release(holder, 64 * MIB);
        assertEquals(List.of("w0"), woken);
        budget.release(holder, 128 * MIB);
        assertEquals(List.of("w0", "w1", "w2"), woken);
        budget.release(holder, 64 * MIB);
        assertEquals(List.of("w0", "w1", "w2", "w3"), woken);
        for (PayloadBudget.Share<String> w : waiters) {
            assertTrue(budget.claim(w));
            assertFalse(budget.claim(w), "a grant is claimed once");
        }
        assertEquals(256 * MIB, budget.inFlight());
        assertEquals(List.of("w0", "w1", "w2", "w3"), budget.holders());
    }

    @Test
    void aLargeRequestAtTheHeadIsServedBeforeSmallerOnesBehindIt() {
        PayloadBudget.Share<String> holder = share("holder");
        assertTrue(budget.takeOrQueue(holder, 240 * MIB));
        PayloadBudget.Share<String> large = share("large");
        assertFalse(budget.takeOrQueue(large, 32 * MIB));
        // 4 KiB would fit in the 16 MiB left, but someone came first.
        PayloadBudget.Share<String> small = share("small");
        assertFalse(budget.takeOrQueue(small, 4096));
        budget.release(holder, 8 * MIB);
        assertEquals(List.of(), woken, "the head does not fit yet, and those behind it wait for it");
        budget.release(holder, 16 * MIB);
        assertEquals(List.of("large", "small"), woken);
        assertTrue(budget.claim(large));
        assertTrue(budget.claim(small));
        assertEquals(216 * MIB + 32 * MIB + 4096, budget.inFlight());
    }

    @Test
    void aWaiterThatLeavesLetsThoseBehindItThroughAndPassesOnALateGrant() {
        PayloadBudget.Share<String> holder = share("holder");
        assertTrue(budget.takeOrQueue(holder, 250 * MIB));
        PayloadBudget.Share<String> large = share("large");
        PayloadBudget.Share<String> small = share("small");
        assertFalse(budget.takeOrQueue(large, 32 * MIB));
        assertFalse(budget.takeOrQueue(small, MIB));
        budget.leaveQueue(large);
        assertEquals(List.of("small"), woken);
        assertTrue(budget.claim(small));

        PayloadBudget.Share<String> late = share("late");
        PayloadBudget.Share<String> next = share("next");
        assertFalse(budget.takeOrQueue(late, 32 * MIB));
        assertFalse(budget.takeOrQueue(next, 32 * MIB));
        budget.release(holder, 250 * MIB);
        assertEquals(List.of("small", "late", "next"), woken);
        budget.leaveQueue(late); // granted, never claimed: the bytes go back
        assertTrue(budget.claim(next));
        assertEquals(MIB + 32 * MIB, budget.inFlight());
        assertEquals(List.of("small", "next"), budget.holders());
    }

    @Test
    void anIdleBudgetTakesAnySize() {
        PayloadBudget.Share<String> a = share("a");
        assertTrue(budget.takeOrQueue(a, 512 * MIB), "nothing in flight: the largest request goes through");
        budget.release(a, 512 * MIB);
        assertEquals(0, budget.inFlight());
        assertEquals(List.of(), budget.holders());
        assertEquals(0, budget.waiting());
    }
}
