package org.aiolos.api;

/**
 * What one kind of backend of a context is asked to be and what actually serves it, for
 * operators (the shell's {@code aio:contexts}, the context's MBean).
 *
 * @param kind {@code fdmon}, {@code thread-pool} or {@code aio-engine}
 * @param configured the name asked for, or null for the best available
 * @param serving the backend that takes new work now, or null when none is open (a
 *     thread pool or engine is opened at its first request)
 * @param note why it is not on the configured or preferred backend, or null if it is
 * @param draining retired backends still finishing their requests
 * @param waiting requests held because no provider of this kind is available
 * @param user who opened this backend of the context's with {@link AioContext#openDiskIo}
 *     (an NBD export), or null for the context's own
 */
public record BackendStatus(String kind, String configured, String serving, String note, int draining,
                            int waiting, String user) {

    /** The status of one of the context's own backends. */
    public BackendStatus(String kind, String configured, String serving, String note, int draining, int waiting) {
        this(kind, configured, serving, note, draining, waiting, null);
    }

    /** {@code serving (configured: X)} with the note, as one line. */
    public String describe() {
        StringBuilder sb = new StringBuilder(serving == null ? "none open yet" : serving);
        sb.append(" (configured: ").append(configured == null ? "best available" : configured).append(')');
        if (draining > 0) {
            sb.append(", ").append(draining).append(" draining");
        }
        if (waiting > 0) {
            sb.append(", ").append(waiting).append(" requests waiting for a provider");
        }
        return sb.toString();
    }
}
