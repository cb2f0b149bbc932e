package org.aiolos.api.coroutine;

import java.util.Objects;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import org.aiolos.api.AioContext;
import org.aiolos.api.ClockType;

/**
 * The entry points for coroutines (QEMU include/qemu/coroutine.h and the coroutine parts
 * of include/qemu/aio.h).
 *
 * <pre>{@code
 * Coroutine co = Coroutines.create("reader", () -> {
 *     mutex.lock();
 *     try { ... } finally { mutex.unlock(); }
 *     Coroutines.sleepNs(ClockType.REALTIME, 1_000_000);
 * });
 * co.enter();   // runs it here until it yields; its timer wakes it in this context
 * }</pre>
 *
 * <p><b>Where the implementation comes from.</b> The API bundle holds no implementation.
 * The runtime is a service: in an OSGi container, {@code org.aiolos.core} registers a
 * {@link CoroutineRuntime} (a Declarative Services component) that bundles bind by
 * reference, and whose activation installs it here ({@link #install}; its deactivation
 * {@link #uninstall}s it), so a bundle that references the service finds this facade
 * ready. On the class path and the module path the first use looks it up with
 * {@link ServiceLoader}.
 *
 * <p><b>Threads.</b> A coroutine runs on the thread that enters it, and
 * {@link AioContext#current()} inside it is that thread's context. Cross-thread hand-offs
 * go through {@link #schedule} (or {@link #wake}, which schedules when the target
 * context is another thread's).
 */
public final class Coroutines {
    private static volatile CoroutineRuntime runtime;
    /** Whether {@link ServiceLoader} has been asked (once: the answer does not change). */
    private static volatile boolean lookedUp;
    /** Why {@link ServiceLoader} found no runtime although a provider was declared, for the message. */
    private static volatile ServiceConfigurationError lookUpFailure;

    private Coroutines() {
    }

    /**
     * Makes {@code impl} the runtime behind this facade: what the runtime's service
     * component does when it activates. A later install (a refreshed core bundle) replaces
     * the earlier one.
     */
    public static void install(CoroutineRuntime impl) {
        runtime = Objects.requireNonNull(impl, "impl");
    }

    /** Withdraws {@code impl}, if it is the installed runtime (its component deactivates). */
    public static synchronized void uninstall(CoroutineRuntime impl) {
        if (runtime == impl) {
            runtime = null;
        }
    }

    /** The runtime, or null when none is installed and {@link ServiceLoader} finds none. */
    public static CoroutineRuntime installedRuntime() {
        CoroutineRuntime r = runtime;
        return r != null || lookedUp ? r : lookUp();
    }

    /**
     * Asks {@link ServiceLoader} through this module's own class loader, not the thread's
     * context loader: in OSGi a context loader (SCR's, a shell's) may see core's provider
     * file yet define the class apart from the api bundle's interface ("not a subtype"),
     * and the api bundle's loader sees no provider at all, which is the right answer there
     * (the runtime comes as a service).
     */
    private static synchronized CoroutineRuntime lookUp() {
        if (runtime == null && !lookedUp) {
            lookedUp = true;
            try {
                runtime = ServiceLoader.load(CoroutineRuntime.class, Coroutines.class.getClassLoader())
                        .findFirst().orElse(null);
            } catch (ServiceConfigurationError e) {
                lookUpFailure = e;
            }
        }
        return runtime;
    }

    /**
     * The runtime.
     *
     * @throws IllegalStateException when there is none: no core module on the class or
     *     module path, or in OSGi, no active core bundle
     */
    public static CoroutineRuntime runtime() {
        CoroutineRuntime r = installedRuntime();
        if (r == null) {
            throw new IllegalStateException("no coroutine runtime: org.aiolos.core is not on the class or module path"
                    + " (ServiceLoader finds no " + CoroutineRuntime.class.getName() + "), or in OSGi its bundle is"
                    + " not active (it registers the runtime as a service)", lookUpFailure);
        }
        return r;
    }

    /** The backend in use: {@code continuation} or {@code virtual-thread}. */
    public static String backend() {
        return runtime().backend();
    }

    /**
     * Creates a coroutine that will run {@code body} (QEMU {@code qemu_coroutine_create});
     * it does not run until entered.
     */
    public static Coroutine create(String name, Runnable body) {
        return runtime().create(Objects.requireNonNull(name, "name"), Objects.requireNonNull(body, "body"));
    }

    /** {@link #create(String, Runnable)} with a generated name. */
    public static Coroutine create(Runnable body) {
        return runtime().create(null, Objects.requireNonNull(body, "body"));
    }

    /** The coroutine running in this thread, or null outside any (QEMU {@code qemu_coroutine_self}). */
    public static Coroutine self() {
        return runtime().self();
    }

    /** Whether the caller runs in a coroutine (QEMU {@code qemu_in_coroutine}). */
    public static boolean inCoroutine() {
        return runtime().inCoroutine();
    }

    /**
     * Suspends the calling coroutine and returns control to whoever entered it (QEMU
     * {@code qemu_coroutine_yield}). It continues when entered again.
     *
     * @throws IllegalStateException outside a coroutine ("yielding to no one")
     * @throws CoroutinePinnedException if the JVM cannot suspend the stack; the
     *     coroutine keeps running
     */
    public static void yieldNow() {
        runtime().yieldNow();
    }

    /**
     * Checks that the calling coroutine can yield now, without yielding: for an operation
     * that must not start what only a yield could finish (submit a request, queue a waiter)
     * when the coroutine cannot wait for it. The coroutine locks, sleeps and queues make the
     * same check before they queue the coroutine.
     *
     * @throws IllegalStateException outside a coroutine
     * @throws CoroutinePinnedException if the JVM could not suspend the stack (a native
     *     frame or a class initializer on it)
     * @since 0.2.0
     */
    public static void ensureCanYield() {
        runtime().ensureCanYield();
    }

    /**
     * Runs {@code co} in {@code ctx}'s thread from a bottom half, in scheduling order
     * (QEMU {@code aio_co_schedule}); callable from any thread. {@code co} must not be
     * entered by anyone else meanwhile, and must have yielded unless {@code ctx} is the
     * caller's own context.
     *
     * @throws IllegalStateException if it is already scheduled (the message names by
     *     whom) or finished
     */
    public static void schedule(AioContext ctx, Coroutine co) {
        runtime().schedule(Objects.requireNonNull(ctx, "ctx"), Objects.requireNonNull(co, "co"));
    }

    /**
     * Runs {@code co} in {@code ctx} (QEMU {@code aio_co_enter}): scheduled there when
     * {@code ctx} is not the caller's context; queued to run when the calling coroutine
     * yields or finishes when the caller is a coroutine of {@code ctx}; entered at once
     * otherwise.
     */
    public static void enter(AioContext ctx, Coroutine co) {
        runtime().enter(ctx, Objects.requireNonNull(co, "co"));
    }

    /**
     * {@link #enter(AioContext, Coroutine)} in the context where {@code co} last ran
     * (QEMU {@code aio_co_wake}). Before {@code co} has yielded this is safe only from
     * another context.
     */
    public static void wake(Coroutine co) {
        runtime().wake(Objects.requireNonNull(co, "co"));
    }

    /**
     * Moves the calling coroutine to {@code ctx}'s thread (QEMU {@code aio_co_reschedule_self});
     * returns running there. Does nothing when {@code ctx} is the current context.
     *
     * @throws IllegalStateException outside a coroutine, or in a thread without a context
     */
    public static void rescheduleSelf(AioContext ctx) {
        runtime().rescheduleSelf(Objects.requireNonNull(ctx, "ctx"));
    }

    /**
     * Sleeps the calling coroutine for {@code ns} nanoseconds of {@code clock} (QEMU
     * {@code qemu_co_sleep_ns}); see {@link CoSleep#sleepNs}.
     */
    public static void sleepNs(ClockType clock, long ns) {
        runtime().sleepNs(Objects.requireNonNull(clock, "clock"), ns);
    }

    /** A sleep that another party can end early (QEMU {@code QemuCoSleep}). */
    public static CoSleep newSleep() {
        return runtime().newSleep();
    }

    /** An unlocked {@link CoMutex} (QEMU {@code qemu_co_mutex_init}). */
    public static CoMutex newMutex() {
        return runtime().newMutex();
    }

    /** An empty {@link CoQueue} (QEMU {@code qemu_co_queue_init}). */
    public static CoQueue newQueue() {
        return runtime().newQueue();
    }

    /** An unlocked {@link CoRwLock} (QEMU {@code qemu_co_rwlock_init}). */
    public static CoRwLock newRwLock() {
        return runtime().newRwLock();
    }
}
