package org.aiolos.launcher;

import java.nio.file.Path;

/**
 * The launcher's command line. Parsing never starts anything: {@code --help} and
 * {@code --version} are answered by {@link Launcher} before the framework exists.
 *
 * @param mode what runs once the framework has started
 * @param script the commands file of {@code --run}; null otherwise
 * @param clean {@code --clean}: the framework cache (and with it Config Admin's store) is
 *     deleted before starting
 */
record LaunchOptions(Mode mode, Path script, boolean clean) {

    /** How the launcher runs once the bundles are up. */
    enum Mode {
        /** {@code --help}: print {@link #USAGE} and exit 0. */
        HELP,
        /** {@code --version}: print the versions and exit 0. */
        VERSION,
        /** The JLine Gogo shell on the terminal (stdin is a terminal). */
        SHELL,
        /** Commands from stdin (not a terminal) or from {@code --run FILE}, then exit. */
        SCRIPT,
        /** {@code --server}: no shell; runs until SIGTERM, SIGINT or {@code stop 0}. */
        SERVER
    }

    static final String USAGE = """
            usage: aiolos [--clean] [--server | --run FILE] | --help | --version
            Starts Felix with every bundle of bundle/, the configurations of conf/ (watched: adding,
            editing or deleting a .cfg file applies it live) and, on a terminal, the Gogo shell.
              (no option)    on a terminal: the interactive shell (Ctrl-C interrupts the running
                             command; 'stop 0' or Ctrl-D quits); otherwise the shell commands read
                             from stdin, one per line, then exit
              --run FILE     runs the shell commands of FILE (one per line, # comments), then exits
              --server       no shell: serves until SIGTERM or SIGINT
              --clean        deletes cache/ first: installed bundles, Config Admin's store and
                             FileInstall's state start afresh (conf/ is kept and read again)
              --help, -h     prints this and exits
              --version      prints the versions of Aiolos, Felix and Java and exits
            Scripts stop at the first command that fails; the exit status is 0 when every command
            succeeded, 1 when one failed, 2 for a bad command line or a missing conf/ folder.
            Environment: AIOLOS_CONF (another conf/ folder), AIOLOS_JAVA_OPTS (JVM options; the
            default heap is -Xms32m -Xmx256m, and a -Xmx given here wins).""";

    /**
     * @param args the command line
     * @param stdinIsTerminal whether stdin is a terminal (chooses between the shell and
     *     reading commands from stdin when no mode is given)
     * @throws IllegalArgumentException saying what was wrong
     */
    static LaunchOptions parse(String[] args, boolean stdinIsTerminal) {
        Mode mode = null;
        Path script = null;
        boolean clean = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--help", "-h" -> {
                    return new LaunchOptions(Mode.HELP, null, false);
                }
                case "--version" -> {
                    return new LaunchOptions(Mode.VERSION, null, false);
                }
                case "--clean" -> clean = true;
                case "--server" -> mode = only(mode, Mode.SERVER, a);
                case "--run" -> {
                    mode = only(mode, Mode.SCRIPT, a);
                    if (i + 1 >= args.length) {
                        throw new IllegalArgumentException("--run needs a file");
                    }
                    script = Path.of(args[++i]);
                }
                default -> {
                    if (a.startsWith("--run=")) {
                        mode = only(mode, Mode.SCRIPT, "--run");
                        script = Path.of(a.substring("--run=".length()));
                    } else {
                        throw new IllegalArgumentException("unknown argument '" + a + "'");
                    }
                }
            }
        }
        if (mode == null) {
            mode = stdinIsTerminal ? Mode.SHELL : Mode.SCRIPT;
        }
        return new LaunchOptions(mode, script, clean);
    }

    private static Mode only(Mode already, Mode next, String option) {
        if (already != null) {
            throw new IllegalArgumentException(option + ": --server and --run exclude each other");
        }
        return next;
    }
}
