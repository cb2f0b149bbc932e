package org.aiolos.launcher;

import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.BundleException;
import org.osgi.framework.SynchronousBundleListener;
import org.osgi.framework.launch.Framework;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGTERM to the interactive shell stops the framework the way {@code stop 0} does, before
 * the JVM's shutdown begins.
 *
 * <p>Left to the JVM, SIGTERM ran every shutdown hook at once, JLine's among them: it
 * restored the terminal's own settings (reads of at least one byte, no time limit) while the
 * shell's thread was reading the terminal in slices of a tenth of a second, so its next read
 * blocked until a key was pressed. Gogo's shell bundle, stopped later with the framework,
 * interrupts that thread and waits 5 s for it ({@code Activator} of
 * {@code org.apache.felix.gogo.jline}): an interrupt cannot end a blocked read(2), so every
 * SIGTERM took 5.5 s and printed {@code !!! FAILED TO STOP EXECUTOR !!!}. Stopped first, the
 * shell bundle closes the terminal and interrupts its reader while the terminal still reads
 * in slices, and the JVM's hooks find nothing left to do.
 *
 * <p>Gogo's own stop has the same race on a smaller scale (1 in 8 runs of
 * {@code DistributionIT}): it closes the terminal, which restores its settings, before it
 * interrupts the reader, and a slice that ended in between is followed by a blocking read.
 * So when Gogo's bundles begin to stop (a synchronous listener, before their stop methods
 * run), the shell's thread is interrupted and then kept interrupted until it ends: whenever a
 * slice ends, the reader finds the interrupt and leaves, and Gogo marks its shell stopping
 * before it closes the terminal, so the shell does not read again. ({@code stop 0} runs in
 * the shell's thread, which is then not reading.)
 *
 * <p>A second SIGTERM while the framework stops goes to the JVM's own handler (shutdown with
 * hooks), so a stop that hangs can still be ended. Only the shell mode needs this: without a
 * terminal, the shutdown hook alone stops the framework.
 */
final class ShellTermination {
    /** Gogo's bundles whose stop ends the shell (the runtime's stop takes the shell's commands away). */
    private static final Set<String> GOGO = Set.of("org.apache.felix.gogo.runtime", "org.apache.felix.gogo.jline");
    /** The thread Gogo's shell bundle reads the terminal in ({@code Activator.startShell}). */
    private static final String SHELL_THREAD = "Gogo shell";
    /** As long as Gogo waits for it: past that the shell is not coming back anyway. */
    private static final long RELEASE_NS = TimeUnit.SECONDS.toNanos(5);

    /** 128 + SIGTERM, what a shell reports for a process SIGTERM ended. */
    static final int STATUS = 143;

    private static final Signal TERM = new Signal("TERM");
    private static volatile boolean terminated;

    private ShellTermination() {
    }

    /** From here on, SIGTERM stops {@code framework} (once) instead of starting the JVM's shutdown. */
    static void install(Framework framework) {
        SignalHandler[] jvm = new SignalHandler[1];
        jvm[0] = Signal.handle(TERM, signal -> {
            Signal.handle(TERM, jvm[0]); // the next one: the JVM's shutdown
            terminated = true; // before the stop, so the waiting main thread sees it
            Thread.ofPlatform().name("aiolos-sigterm").start(() -> stop(framework));
        });
    }

    /** Whether SIGTERM stopped the framework: the process then exits with {@link #STATUS}. */
    static boolean terminated() {
        return terminated;
    }

    private static void stop(Framework framework) {
        Thread shell = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> SHELL_THREAD.equals(t.getName())).findFirst().orElse(null);
        if (shell != null) {
            AtomicBoolean released = new AtomicBoolean();
            framework.getBundleContext().addBundleListener((SynchronousBundleListener) e -> {
                if (e.getType() == BundleEvent.STOPPING && GOGO.contains(e.getBundle().getSymbolicName())
                        && released.compareAndSet(false, true)) {
                    shell.interrupt();
                    Thread.ofPlatform().daemon().name("aiolos-shell-release").start(() -> interruptUntilItEnds(shell));
                }
            });
        }
        try {
            framework.stop();
        } catch (BundleException e) {
            System.err.println("aiolos: stopping the framework after SIGTERM: " + e);
        }
    }

    /**
     * Re-interrupts the shell's thread whenever it has taken the interrupt, until it ends: a
     * spin of at most one read slice (0.1 s) in practice, once, while the process stops.
     */
    private static void interruptUntilItEnds(Thread shell) {
        long deadline = System.nanoTime() + RELEASE_NS;
        while (shell.isAlive() && System.nanoTime() < deadline) {
            if (!shell.isInterrupted()) {
                shell.interrupt();
            }
            Thread.onSpinWait();
        }
    }
}
