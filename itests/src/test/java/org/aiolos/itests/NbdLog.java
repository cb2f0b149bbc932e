package org.aiolos.itests;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/**
 * The lines the NBD bundle logs (logger {@code org.aiolos.nbd}, which reaches
 * java.util.logging in the test container) while it is open, formatted as the log file has
 * them, each with its level first ({@code WARNING NBD export ...}).
 */
final class NbdLog extends Handler implements AutoCloseable {
    private final Logger logger = Logger.getLogger("org.aiolos.nbd");
    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final SimpleFormatter formatter = new SimpleFormatter();
    /** The logger's own level before: the container's logging set-up may leave INFO out. */
    private final Level before = logger.getLevel();

    NbdLog() {
        setLevel(Level.ALL);
        logger.setLevel(Level.INFO);
        logger.addHandler(this);
    }

    @Override
    public void publish(LogRecord r) {
        lines.add(r.getLevel() + " " + formatter.formatMessage(r));
    }

    List<String> lines() {
        return List.copyOf(lines);
    }

    /** Every line, one a line, for failure messages. */
    String all() {
        return String.join("\n", lines);
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        logger.removeHandler(this);
        logger.setLevel(before);
    }
}
