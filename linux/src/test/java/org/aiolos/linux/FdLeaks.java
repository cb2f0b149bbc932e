package org.aiolos.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Asserts that a test body leaves the process's descriptor count where it found it. */
final class FdLeaks {
    private FdLeaks() {
    }

    interface Body {
        void run() throws Exception;
    }

    static void check(Body body) throws Exception {
        int before = Fds.openFdCount();
        body.run();
        int after = Fds.openFdCount();
        assertEquals(before, after, "open descriptors before/after (a leak if after is larger)");
    }
}
