package org.aiolos.nbd.osgi;

import javax.management.ObjectName;

/**
 * What {@link NbdExports} knows of one export configuration: the settings it serves (or
 * waits to serve), where it is served, and what was last rejected. Guarded by the
 * {@link NbdExports} lock; the shell reads {@link #snapshot}s.
 */
final class ExportEntry {
    final String pid;
    /** The export name the last configuration asked for, valid or not (for listings). */
    String requestedName;
    /** The settings in force; null while the configuration has never been valid. */
    ExportSettings settings;
    /** Why the configuration has no valid settings (with {@code settings == null}). */
    String rejected;
    /** An update that was refused while the previous settings serve on. */
    String lastRejection;
    /**
     * The last configuration, while it is refused for what another export holds (its name,
     * a listener, a port): tried again when an export goes or changes. Null otherwise.
     */
    java.util.Map<String, ?> refusedProps;
    /**
     * The last attempt could not open its listener (the port is taken, the address is not
     * this host's yet, the socket's directory or the credentials are missing): tried again
     * every {@link NbdExports#LISTEN_RETRY_S} s, since only something outside may mend it.
     */
    boolean listenBlocked;
    /**
     * The last configuration was refused only because its image does not exist yet (being
     * created or copied): tried again every {@link NbdExports#LISTEN_RETRY_S} s too, since
     * no configuration event comes when the file appears.
     */
    boolean fileAwaited;
    /** How {@link #waiting} begins while the export's IOThread is missing. */
    static final String WAITING_FOR_IOTHREAD = "waiting for IOThread ";
    /** Why a valid export is not served yet (its IOThread is missing). */
    String waiting;
    /** The listener serving it; null while not served. */
    Listener listener;
    /** Its MBean while served; null otherwise (or when JMX refused it). */
    ObjectName mbean;
    /** Configuration updates handled (applied or rejected), so the shell can wait for its own. */
    long updates;

    ExportEntry(String pid) {
        this.pid = pid;
    }

    /** @param running which IOThreads run now, for an export that waits for one */
    Snapshot snapshot(String running) {
        String w = waiting != null && waiting.startsWith(WAITING_FOR_IOTHREAD) ? waiting + " (" + running + ")"
                : waiting;
        String retried = retriedOnTimer() ? RETRIED_NOTE : "";
        return new Snapshot(pid, requestedName, settings, rejected == null ? null : rejected + retried,
                lastRejection == null || refusedProps == null ? lastRejection : lastRejection + retried,
                w == null || listener != null || !w.startsWith(NOT_SERVED) ? w : w + retried, listener, updates);
    }

    /** Whether something outside the configurations may mend its refusal: tried again every few seconds. */
    boolean retriedOnTimer() {
        return listenBlocked || fileAwaited;
    }

    /** What the listing adds to a refusal that is tried again ({@link #retriedOnTimer}). */
    static final String RETRIED_NOTE = " (tried again every " + NbdExports.LISTEN_RETRY_S + " s)";

    /** How {@link #waiting} begins when a valid export's listener cannot be opened. */
    static final String NOT_SERVED = "not served: ";

    /** An immutable copy for readers outside the lock. */
    record Snapshot(String pid, String requestedName, ExportSettings settings, String rejected, String lastRejection, String waiting,
                    Listener listener, long updates) {
        boolean serving() {
            return listener != null;
        }
    }
}
