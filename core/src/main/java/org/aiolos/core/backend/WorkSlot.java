package org.aiolos.core.backend;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.aiolos.api.AioContext;
import org.aiolos.api.AioTimer;
import org.aiolos.api.BackendFactory;
import org.aiolos.api.ClockType;
import org.aiolos.api.TimeScale;
import org.aiolos.core.BackendProviders;

/**
 * A slot whose backend takes requests (thread pools, disk-I/O engines). Between two
 * backends, or while no provider is available at all, requests wait here instead of
 * failing: they go to the next backend the slot opens, in the order they came. Only if no
 * provider appears within the host's {@link SlotHost#backendWaitNs() backend-wait-ms} do
 * they fail, each through its own completion, with a message that says so.
 *
 * <p>A request finds its backend in {@link #backendForWork()}: the current one; or, when
 * none is open, nothing is waiting and no re-choice is pending, one opened on the spot
 * (opening retires nothing, so it is safe anywhere); otherwise null, and the caller
 * {@link #hold}s the request for the next safe point.
 *
 * @param <F> the factory type
 * @param <B> the backend type
 * @param <W> a held request
 */
public abstract class WorkSlot<F extends BackendFactory<B, AioContext>, B, W> extends BackendSlot<F, B> {
    /** Requests waiting for a backend, oldest first. Guarded by this. */
    private final ArrayDeque<W> held = new ArrayDeque<>();
    private final AioTimer giveUp;
    /** Guarded by this. */
    private boolean closing;
    private boolean disposed;

    protected WorkSlot(SlotHost host, String kind, String owner, BackendProviders<F> providers, String configured) {
        super(host, kind, owner, providers, configured);
        this.giveUp = host.context().newTimer(ClockType.REALTIME, TimeScale.NS, this::giveUp);
    }

    /** Pools and engines are opened for the context they serve (the SPIs' shared open shape). */
    @Override
    protected final B openBackend(F factory) {
        return factory.open(host.context());
    }

    /**
     * The backend for a new request, or null if the request must be {@link #hold held}.
     *
     * @throws IllegalStateException while the context closes
     */
    protected final B backendForWork() {
        Opened<F, B> o = current;
        if (o != null) {
            return o.backend();
        }
        return openForWork();
    }

    private synchronized B openForWork() {
        if (closing) {
            throw closingException();
        }
        Opened<F, B> o = current;
        if (o != null) {
            return o.backend();
        }
        if (reselectPending() || !held.isEmpty()) {
            return null; // the safe point decides, and keeps the order
        }
        Choice<F> c = choose();
        setNote(c.note());
        while (c.provider() != null) {
            try {
                o = open(c.provider());
            } catch (RuntimeException failedToOpen) {
                o = null; // skipped from now on; try the next one
            }
            if (o != null) {
                return o.backend();
            }
            c = choose();
        }
        return null;
    }

    /** Keeps {@code request} until a backend opens, or fails it after backend-wait-ms. */
    protected final void hold(W request) {
        boolean first;
        synchronized (this) {
            if (closing) {
                throw closingException();
            }
            first = held.isEmpty();
            held.addLast(request);
        }
        if (first) {
            giveUp.modNs(host.context().clocks().nowNs(ClockType.REALTIME)
                    + (providers.ended() == null ? host.backendWaitNs() : 0));
        }
        requestReselect();
    }

    /**
     * Opens the new choice when requests wait for it, or when it replaces a backend that was
     * in use (so what serves is visible at once); otherwise the next request opens it.
     */
    @Override
    protected final void chosen(Choice<F> choice, boolean retiredCurrent) {
        List<W> ready;
        B b;
        boolean noneWillCome = false;
        synchronized (this) {
            if (held.isEmpty() && !retiredCurrent) {
                return; // opened lazily by the next request
            }
            b = current != null ? current.backend() : null;
            String servingName = current != null ? current.name() : null;
            Choice<F> c = choice;
            while (b == null && c.provider() != null) {
                try {
                    Opened<F, B> o = open(c.provider());
                    b = o == null ? null : o.backend();
                    servingName = o == null ? null : o.name();
                } catch (RuntimeException failedToOpen) {
                    host.report(this, failedToOpen);
                }
                if (b == null) {
                    c = choose();
                }
            }
            if (b == null) {
                // Still none: they wait for the next provider, or for giveUp; at once if none will come.
                noneWillCome = !held.isEmpty() && providers.ended() != null;
                ready = null;
            } else {
                ready = new ArrayList<>(held);
                held.clear();
                if (!ready.isEmpty()) {
                    // The WARNING that they wait was logged: say when they stop waiting.
                    LOG.log(System.Logger.Level.INFO, "{0}: {1} {2} available; {3} held {4}", owner(), kind,
                            servingName, ready.size(), ready.size() == 1 ? "request resumes" : "requests resume");
                }
            }
        }
        if (ready == null) {
            if (noneWillCome) {
                giveUp.modNs(host.context().clocks().nowNs(ClockType.REALTIME));
            }
            return;
        }
        giveUp.cancel();
        for (W w : ready) {
            try {
                submit(b, w);
            } catch (RuntimeException e) {
                host.report(this, e);
                fail(w, kind + " of " + owner() + " refused a request that waited for it: " + e.getMessage(), false);
            }
        }
    }

    /** backend-wait-ms passed with requests held and no provider: they fail. Home thread (a timer). */
    private void giveUp() {
        List<W> expired;
        synchronized (this) {
            if (held.isEmpty() || current != null) {
                return;
            }
            expired = new ArrayList<>(held);
            held.clear();
        }
        String ended = providers.ended();
        String why = ended != null ? "no " + kind + " provider will come for " + owner() + ": " + ended
                : "no " + kind + " provider became available within "
                + TimeUnit.NANOSECONDS.toMillis(host.backendWaitNs()) + " ms for " + owner()
                + (note() == null ? "" : " (" + note() + ")");
        LOG.log(System.Logger.Level.WARNING, "{0}: {1}: {2}", owner(),
                expired.size() == 1 ? "1 request fails" : expired.size() + " requests fail", why);
        for (W w : expired) {
            fail(w, why, false);
        }
    }

    /**
     * The context closes: held requests fail, every backend closes (their completions run
     * first), and requests are refused until {@link #closeRefused} or {@link #dispose}.
     */
    @Override
    public void closeBackends() {
        List<W> dropped;
        synchronized (this) {
            closing = true;
            dropped = new ArrayList<>(held);
            held.clear();
        }
        giveUp.cancel();
        for (W w : dropped) {
            fail(w, owner() + " is closing", true);
        }
        super.closeBackends();
    }

    /** The context did not close after all: take requests again. */
    public synchronized void closeRefused() {
        closing = false;
    }

    @Override
    public void dispose() {
        synchronized (this) {
            closing = true;
            disposed = true;
        }
        giveUp.cancel();
        super.dispose();
    }

    @Override
    protected final synchronized int waiting() {
        return held.size();
    }

    /** Whether {@code request} is still held (not yet given to a backend); removes it if so. */
    protected final synchronized boolean withdraw(W request) {
        return held.removeFirstOccurrence(request);
    }

    /** Caller holds this. */
    private IllegalStateException closingException() {
        return new IllegalStateException(owner() + " is " + (disposed ? "closed" : "closing") + "; its " + kind
                + " takes no more requests");
    }

    /** Gives a held request to {@code backend}. */
    protected abstract void submit(B backend, W request);

    /**
     * Fails a held request through its completion, with {@code why}; {@code closing} when
     * the owner closes (rather than no provider having come).
     */
    protected abstract void fail(W request, String why, boolean closing);
}
