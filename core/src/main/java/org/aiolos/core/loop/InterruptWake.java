package org.aiolos.core.loop;

import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.spi.AbstractInterruptibleChannel;

/**
 * Lets {@link Thread#interrupt()} end a blocking wait of the loop, as it ends a blocking
 * operation on an interruptible channel. The wait itself is a system call that knows
 * nothing of Java interrupts; what the JDK offers for exactly this is the protected
 * {@code begin}/{@code end} pair of {@link AbstractInterruptibleChannel}: between them, an
 * interrupt of the waiting thread calls {@link AbstractInterruptibleChannel#implCloseChannel},
 * which here wakes the loop (the context's notifier). The interrupt status is left set, so
 * the caller sees it; a thread already interrupted does not block at all.
 *
 * <p>An interrupt closes the channel for good, so a fresh one is made after each (the only
 * allocation, and only then). Home thread only.
 */
final class InterruptWake {
    private final Runnable wake;
    private Gate gate;

    InterruptWake(Runnable wake) {
        this.wake = wake;
        this.gate = new Gate();
    }

    /** Before a wait that may block. */
    void begin() {
        if (!gate.isOpen()) {
            gate = new Gate();
        }
        gate.enter();
    }

    /** After it, in a finally block. */
    void end() {
        gate.exit();
    }

    /** A channel only for its interrupt hook: it does no I/O. */
    private final class Gate extends AbstractInterruptibleChannel {
        void enter() {
            begin();
        }

        void exit() {
            try {
                end(true);
            } catch (AsynchronousCloseException interrupted) {
                // ClosedByInterruptException: the wait was ended by Thread.interrupt(),
                // whose status stays set for the caller to see.
            }
        }

        /** Called from the interrupting thread (or at once, if already interrupted). */
        @Override
        protected void implCloseChannel() {
            wake.run();
        }
    }
}
