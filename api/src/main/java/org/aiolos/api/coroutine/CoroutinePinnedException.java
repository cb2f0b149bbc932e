package org.aiolos.api.coroutine;

/**
 * The JVM could not suspend the coroutine: its stack holds a frame that cannot be
 * moved off the thread, such as a native frame (a JNI or FFM up-call, or a class
 * initializer). The coroutine keeps running; the operation that wanted to yield failed
 * and changed nothing.
 */
public final class CoroutinePinnedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    private final String reason;

    public CoroutinePinnedException(String coroutine, String reason) {
        super("cannot yield " + coroutine + ": the JVM cannot suspend it because its stack is pinned by "
                + reason);
        this.reason = reason;
    }

    /** What pins the stack, in words. */
    public String reason() {
        return reason;
    }
}
