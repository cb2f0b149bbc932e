package org.aiolos.launcher;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.logging.Filter;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Says in one line what is wrong with a {@code .cfg} file that FileInstall cannot parse,
 * in place of FileInstall's SEVERE "Failed to install artifact" and the parser's stack
 * trace ({@code Unable to parse unicode value: ZZZZ}, 30 lines of FileInstall's and the
 * framework's frames, no line number), which told the operator neither where nor what.
 * A filter on FileInstall's logger ({@code felix.fileinstall.log.default=jul} sends its
 * records to the JUL logger {@code fileinstall}) takes those records, for {@code .cfg}
 * files that failed with an {@link IllegalArgumentException} (the parser's way of
 * refusing a line), at start or after an edit, and logs instead one WARNING such as
 * {@code /opt/aiolos/conf/org.aiolos.iothread-io2.cfg: not read: line 3: malformed ... escape
 * '...' (four hex digits must follow; ...); FileInstall cannot parse the file and ignores it (a
 * configuration made from it before stays as it was)}. Every other FileInstall record passes
 * as it was.
 */
final class UnreadableConfigFiles implements Filter {
    /** FileInstall's JUL logger (its {@code Util.DefaultLogger}). */
    static final String FILEINSTALL_LOGGER = "fileinstall";
    /** FileInstall's words for a file it failed to read, at start or after an edit ({@code DirectoryWatcher}). */
    private static final Pattern FAILED = Pattern.compile("Failed to (?:install|update) artifact:? (.+\\.cfg)");
    private static final System.Logger LOG = System.getLogger("org.aiolos.launcher");
    /** Held: the LogManager keeps loggers weakly, and a collected one would forget its filter. */
    private static Logger fileinstall;

    /** Puts the filter on FileInstall's logger; after the logging configuration is read (reading resets loggers). */
    static void install() {
        fileinstall = Logger.getLogger(FILEINSTALL_LOGGER);
        fileinstall.setFilter(new UnreadableConfigFiles());
    }

    @Override
    public boolean isLoggable(LogRecord r) {
        Matcher m = FAILED.matcher(String.valueOf(r.getMessage()));
        if (!m.matches() || !(r.getThrown() instanceof IllegalArgumentException bad)) {
            return true;
        }
        Path file = Path.of(m.group(1));
        // What is wrong first: the console shows the first 160 characters.
        LOG.log(System.Logger.Level.WARNING, file + ": not read: " + whatIsWrong(file, bad) + "; FileInstall cannot"
                + " parse the file and ignores it (a configuration made from it before stays as it was)");
        return false;
    }

    /**
     * What the parser refused: the line of the first malformed backslash-u escape
     * when there is one (the parser's message names neither the line nor the escape), else
     * the parser's own message.
     */
    static String whatIsWrong(Path file, IllegalArgumentException failure) {
        try {
            String escape = malformedEscape(Files.readAllLines(file, StandardCharsets.ISO_8859_1));
            if (escape != null) {
                return escape;
            }
        } catch (IOException gone) {
            // deleted or unreadable since: the parser's message is all there is
        }
        return String.valueOf(failure.getMessage());
    }

    /** {@code line N: malformed ...} for the first malformed backslash-u escape outside comments, or null. */
    static String malformedEscape(List<String> lines) {
        for (int n = 0; n < lines.size(); n++) {
            String line = lines.get(n);
            String lead = line.stripLeading();
            if (lead.startsWith("#") || lead.startsWith("!")) {
                continue;
            }
            for (int i = 0; i < line.length() - 1; i++) {
                if (line.charAt(i) != '\\') {
                    continue;
                }
                // Fewer than four characters left on the line pass FileInstall's parser as they are.
                if (line.charAt(i + 1) == 'u' && i + 6 <= line.length() && !hex4(line, i + 2)) {
                    String seen = line.substring(i, Math.min(line.length(), i + 6));
                    return "line " + (n + 1) + ": malformed \\uxxxx escape '" + seen + "' (four hex digits must follow;"
                            + " \\\\u is a backslash and a u)";
                }
                i++; // the escaped character, a backslash too, is not the start of an escape
            }
        }
        return null;
    }

    private static boolean hex4(String s, int from) {
        for (int i = from; i < from + 4; i++) {
            if (Character.digit(s.charAt(i), 16) < 0) {
                return false;
            }
        }
        return true;
    }
}
