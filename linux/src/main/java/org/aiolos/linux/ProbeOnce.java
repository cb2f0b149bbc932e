package org.aiolos.linux;

import java.util.Objects;
import java.util.function.Supplier;

/**
 * A probe made on first use and its answer kept, as a backend factory asks "does this work
 * here?" many times (at every selection) while the kernel's answer does not change. Each
 * factory holds its own, so a test that arms a syscall failure before creating a factory
 * sees that factory's probe fail.
 */
public final class ProbeOnce implements Supplier<Availability> {
    private final Supplier<Availability> probe;
    /**
     * Volatile so a factory shared between threads publishes the answer whole. Two threads
     * may both probe at first; both get the same answer, and either may be kept.
     */
    private volatile Availability answer;

    public ProbeOnce(Supplier<Availability> probe) {
        this.probe = Objects.requireNonNull(probe, "probe");
    }

    @Override
    public Availability get() {
        Availability a = answer;
        if (a == null) {
            a = Objects.requireNonNull(probe.get(), "the probe answered null");
            answer = a;
        }
        return a;
    }
}
