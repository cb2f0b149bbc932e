package org.aiolos.testkit;

/** Test teardown: what a test opened is closed in order, whatever was not opened skipped. */
public final class Closing {
    private Closing() {
    }

    /**
     * Closes each non-null resource in the order given. Every one is tried; the first
     * failure is thrown afterwards, with the later ones suppressed into it, so one failed
     * close neither hides the others' nor leaves them open.
     */
    public static void all(AutoCloseable... resources) throws Exception {
        Exception first = null;
        for (AutoCloseable r : resources) {
            if (r == null) {
                continue;
            }
            try {
                r.close();
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
