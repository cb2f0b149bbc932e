package org.aiolos.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Predicate;

/**
 * The callback failures a context reported while a suite ran, as "source: failure" lines,
 * so a test can drop the ones it provoked and assert that nothing else threw.
 */
public final class CallbackFailures {
    private final List<String> lines = Collections.synchronizedList(new ArrayList<>());

    /** Called from the context's failure handler (any thread). */
    public void record(Object source, Throwable failure) {
        lines.add(source + ": " + failure);
    }

    /** Drops the failures a test provoked on purpose. */
    public void removeIf(Predicate<String> provoked) {
        lines.removeIf(provoked);
    }

    public List<String> lines() {
        synchronized (lines) {
            return List.copyOf(lines);
        }
    }

    /** Fails the test if any callback threw. */
    public void assertNone() {
        assertEquals(List.of(), lines(), "callback failures");
    }
}
