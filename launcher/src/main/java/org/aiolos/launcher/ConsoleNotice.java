package org.aiolos.launcher;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.SimpleFormatter;

/**
 * The console's share of the log: one line, at the first record of its level (WARNING
 * unless {@code org.aiolos.launcher.ConsoleNotice.level} says otherwise), naming the log
 * file; nothing after that, so warnings never pile up in the middle of the shell's prompt.
 * Everything goes to the log file ({@link RollingLogFile}) in any case.
 */
public final class ConsoleNotice extends Handler {
    private final AtomicBoolean told = new AtomicBoolean();
    private final SimpleFormatter messages = new SimpleFormatter();
    private final String where;

    public ConsoleNotice() {
        LogManager lm = LogManager.getLogManager();
        String level = lm.getProperty(getClass().getName() + ".level");
        setLevel(level == null ? Level.WARNING : Level.parse(level.trim()));
        String file = lm.getProperty(RollingLogFile.class.getName() + ".file");
        where = file == null ? "the log" : file.trim();
    }

    @Override
    public void publish(LogRecord record) {
        if (!isLoggable(record) || !told.compareAndSet(false, true)) {
            return;
        }
        String m = messages.formatMessage(record).lines().findFirst().orElse("");
        if (m.length() > 160) {
            m = m.substring(0, 157) + "...";
        }
        System.err.println("aiolos: " + record.getLevel().getName() + " " + m + " (this and any further warnings: "
                + where + ")");
        System.err.flush();
    }

    @Override
    public void flush() {
        System.err.flush();
    }

    @Override
    public void close() {
        // System.err is not ours to close
    }
}
