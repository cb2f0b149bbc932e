package org.aiolos.core.coroutine;

/**
 * Picks the coroutine backend once per JVM: {@code continuation} when
 * {@code jdk.internal.vm} is exported to this module, else {@code virtual-thread}; the
 * system property {@value #PROPERTY} forces either.
 */
final class BackendSelector {
    static final String PROPERTY = "aiolos.coroutine.backend";
    /** The flag that opens continuations to this module (ALL-UNNAMED on the class path and in OSGi). */
    static final String FLAG = "--add-exports java.base/jdk.internal.vm="
            + (BackendSelector.class.getModule().isNamed() ? BackendSelector.class.getModule().getName() : "ALL-UNNAMED");

    private BackendSelector() {
    }

    /**
     * The decision and the sentence that explains it; {@code fallback} when the slower
     * backend was taken only because continuations are closed to this module (logged as a
     * warning: the operator most likely forgot the flag).
     */
    record Choice(String backend, String reason, boolean fallback) {
    }

    /**
     * @param forced the property's value, or null
     * @param continuationProblem why continuations are unusable, or null if they are usable
     * @throws IllegalArgumentException for an unknown backend name
     * @throws IllegalStateException when continuations are forced but unusable
     */
    static Choice decide(String forced, String continuationProblem) {
        if (forced != null && !forced.isBlank()) {
            String f = forced.strip();
            if (f.equals(Backend.CONTINUATION)) {
                if (continuationProblem != null) {
                    throw new IllegalStateException("-D" + PROPERTY + "=" + f + " asks for continuations, but "
                            + continuationProblem + "; start the JVM with " + FLAG);
                }
                return new Choice(f, "forced by -D" + PROPERTY + "=" + f, false);
            }
            if (f.equals(Backend.VIRTUAL_THREAD)) {
                return new Choice(f, "forced by -D" + PROPERTY + "=" + f, false);
            }
            throw new IllegalArgumentException(PROPERTY + " must be '" + Backend.CONTINUATION + "' or '"
                    + Backend.VIRTUAL_THREAD + "', got '" + forced + "'");
        }
        if (continuationProblem == null) {
            return new Choice(Backend.CONTINUATION, ContinuationSupport.PACKAGE + " is accessible", false);
        }
        return new Choice(Backend.VIRTUAL_THREAD, continuationProblem + "; every coroutine switch is then a hand-off"
                + " between two threads, several times slower: start the JVM with " + FLAG
                + " for the continuation backend", true);
    }

    static Backend backendNamed(String name) {
        return switch (name) {
            case Backend.CONTINUATION -> ContinuationBackend.INSTANCE;
            case Backend.VIRTUAL_THREAD -> VirtualThreadBackend.INSTANCE;
            default -> throw new IllegalArgumentException("unknown coroutine backend '" + name + "'");
        };
    }

    /** Decides from this JVM's property and module exports, and logs the decision. */
    static Backend select() {
        Choice c = decide(System.getProperty(PROPERTY), ContinuationSupport.unavailableReason());
        System.getLogger("org.aiolos.core.coroutine").log(
                c.fallback() ? System.Logger.Level.WARNING : System.Logger.Level.INFO,
                "coroutine backend: {0} ({1})", c.backend(), c.reason());
        return backendNamed(c.backend());
    }
}
