package org.aiolos.core.coroutine;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import org.aiolos.api.coroutine.CoroutinePinnedException;

/**
 * Access to {@code jdk.internal.vm.Continuation} through method handles. The class is not
 * exported by {@code java.base}, and javac refuses {@code --add-exports} together with
 * {@code --release}, so nothing here names it at compile time; at run time the JVM must
 * export the package to this module ({@code --add-exports java.base/jdk.internal.vm=ALL-UNNAMED},
 * or {@code =org.aiolos.core} on the module path). Static final handles are constants
 * to the JIT, so the calls inline as direct calls would.
 */
final class ContinuationSupport {
    static final String PACKAGE = "jdk.internal.vm";

    private ContinuationSupport() {
    }

    /** Null when the continuation API can be used from this module, else why not. */
    static String unavailableReason() {
        Module me = ContinuationSupport.class.getModule();
        String who = me.isNamed() ? "module " + me.getName() : "the unnamed module";
        if (!Object.class.getModule().isExported(PACKAGE, me)) {
            return "java.base does not export " + PACKAGE + " to " + who;
        }
        try {
            Handles.ensureLoaded();
            return null;
        } catch (Throwable t) {
            Throwable cause = t instanceof ExceptionInInitializerError e && e.getCause() != null ? e.getCause() : t;
            return PACKAGE + ".Continuation is not usable from " + who + ": " + cause;
        }
    }

    static Object newContinuation(Runnable body) {
        try {
            return (Object) Handles.NEW.invokeExact(Handles.SCOPE, body);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cannot create a continuation", t);
        }
    }

    /** Mounts the continuation on this thread until it yields or ends. */
    static void run(Object continuation) {
        try {
            Handles.RUN.invokeExact(continuation);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("continuation run failed", t);
        }
    }

    /**
     * The innermost Aiolos continuation mounted on this thread, or null. Unlike
     * {@link Thread#currentThread()}, this is found through the carrier thread, which the
     * JIT reloads after every call, so it stays right in a frame that yielded on one thread
     * and resumed on another.
     */
    static Object current() {
        try {
            return (Object) Handles.CURRENT.invokeExact(Handles.SCOPE);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Yields the innermost Aiolos continuation; {@code co} only names it in errors. */
    static void yield(CoroutineImpl co) {
        try {
            boolean ok = (boolean) Handles.YIELD.invokeExact(Handles.SCOPE);
            if (!ok) {
                throw new CoroutinePinnedException(co.toString(), "an unknown cause");
            }
        } catch (IllegalStateException e) {
            // The JDK reports a pinned stack from onPinned as "Pinned: <reason>".
            String m = e.getMessage();
            if (m != null && m.startsWith("Pinned: ") && !(e instanceof CoroutinePinnedException)) {
                throw new CoroutinePinnedException(co.toString(), describe(m.substring(8)));
            }
            throw e;
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("continuation yield failed", t);
        }
    }

    /**
     * Whether the JDK's conservative check calls the stack pinned. It counts held monitors,
     * which JDK 25 can in fact yield through, so true means "try it", not "it will fail".
     */
    static boolean maybePinned() {
        try {
            return (boolean) Handles.IS_PINNED.invokeExact(Handles.SCOPE);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static String describe(String pinned) {
        return switch (pinned) {
            case "NATIVE" -> "a native frame (a JNI or FFM up-call, or a class initializer, is on its stack)";
            case "MONITOR" -> "a held monitor (synchronized)";
            case "CRITICAL_SECTION" -> "a JDK critical section";
            case "EXCEPTION" -> "an exception being thrown through the yield";
            default -> pinned;
        };
    }

    /** The handles; initialized on first use, which fails without the export. */
    private static final class Handles {
        static final Object SCOPE;
        static final MethodHandle NEW;
        static final MethodHandle RUN;
        static final MethodHandle YIELD;
        static final MethodHandle IS_PINNED;
        static final MethodHandle CURRENT;

        static {
            try {
                MethodHandles.Lookup lookup = MethodHandles.lookup();
                // From the boot loader directly: an OSGi bundle's loader delegates only
                // java.* to the parent, so a plain Class.forName would not see jdk.internal.vm.
                Class<?> contClass = Class.forName(PACKAGE + ".Continuation", true, null);
                Class<?> scopeClass = Class.forName(PACKAGE + ".ContinuationScope", true, null);
                SCOPE = lookup.findConstructor(scopeClass, MethodType.methodType(void.class, String.class))
                        .invoke("aiolos-coroutine");
                NEW = lookup.findConstructor(contClass, MethodType.methodType(void.class, scopeClass, Runnable.class))
                        .asType(MethodType.methodType(Object.class, Object.class, Runnable.class));
                RUN = lookup.findVirtual(contClass, "run", MethodType.methodType(void.class))
                        .asType(MethodType.methodType(void.class, Object.class));
                YIELD = lookup.findStatic(contClass, "yield", MethodType.methodType(boolean.class, scopeClass))
                        .asType(MethodType.methodType(boolean.class, Object.class));
                IS_PINNED = lookup.findStatic(contClass, "isPinned", MethodType.methodType(boolean.class, scopeClass))
                        .asType(MethodType.methodType(boolean.class, Object.class));
                CURRENT = lookup.findStatic(contClass, "getCurrentContinuation", MethodType.methodType(contClass,
                        scopeClass)).asType(MethodType.methodType(Object.class, Object.class));
            } catch (Throwable t) {
                throw new ExceptionInInitializerError(t);
            }
        }

        static void ensureLoaded() {
            // Class initialization above does the work.
        }
    }
}
