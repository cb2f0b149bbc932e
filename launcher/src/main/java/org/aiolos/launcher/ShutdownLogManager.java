package org.aiolos.launcher;

import java.util.logging.LogManager;

/**
 * java.util.logging's manager for the distribution (where the bundles' {@code System.Logger}
 * output goes): the JDK's, except that it keeps its handlers open while the JVM shuts down,
 * until the launcher has stopped the framework.
 *
 * <p>The JDK's {@code LogManager} closes every handler from a shutdown hook of its own, which
 * runs at the same time as the launcher's: after SIGTERM the log file lost everything the
 * bundles said while stopping (the exports that stopped, a connection that failed), where
 * {@code stop 0} kept it. Named by {@code -Djava.util.logging.manager} in {@code bin/aiolos},
 * and by {@link Launcher#main} when nothing has set it.
 */
public final class ShutdownLogManager extends LogManager {
    /** Probes whether the JVM is shutting down (a hook can no longer be added then). */
    private static final Thread PROBE = Thread.ofPlatform().unstarted(() -> { });

    public ShutdownLogManager() {
    }

    /**
     * Resets as the JDK does, except when called while the JVM shuts down (the JDK's hook):
     * then {@link #closeAtExit} does it, after the framework has stopped.
     */
    @Override
    public void reset() {
        if (!shuttingDown()) {
            super.reset();
        }
    }

    /** Flushes and closes every handler: the launcher's shutdown hook, once the framework has stopped. */
    void closeAtExit() {
        super.reset();
    }

    /** Closes the handlers if the JVM's log manager is this class; a no-op under another one. */
    static void closeHandlersAtExit() {
        if (LogManager.getLogManager() instanceof ShutdownLogManager m) {
            m.closeAtExit();
        }
    }

    private static synchronized boolean shuttingDown() { // one probe at a time: a hook registers once
        try {
            Runtime.getRuntime().addShutdownHook(PROBE);
            Runtime.getRuntime().removeShutdownHook(PROBE);
            return false;
        } catch (IllegalStateException shutdownInProgress) {
            return true;
        }
    }
}
