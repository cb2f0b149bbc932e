package org.aiolos.core.osgi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Malformed IOThread configurations (docs/reliability.md): each is rejected whole with an
 * IllegalArgumentException whose message starts with the bad field. RuntimeIT checks the same
 * through Configuration Admin on a running framework.
 */
class IOThreadSettingsTest {

    private static Map<String, Object> props(Object... kv) {
        Map<String, Object> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    private static void rejected(String field, Object... kv) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> IOThreadSettings.parse(props(kv), "io"));
        assertTrue(e.getMessage().startsWith(field + ":"), "message '" + e.getMessage() + "' does not start with "
                + field);
    }

    @Test
    void malformedConfigurationsAreRejectedNamingTheField() {
        rejected("name", "name", "has space");
        rejected("name", "name", "");
        rejected("poll-max-ns", "poll-max-ns", -1L);
        rejected("poll-grow", "poll-grow", "-2");
        rejected("poll-shrink", "poll-shrink", -3);
        rejected("aio-max-batch", "aio-max-batch", "lots");
        rejected("poll-max-ns", "poll-max-ns", 1.5d);
        rejected("poll-max-ns", "poll-max-ns", "99999999999999999999");
        rejected("thread-pool-min/thread-pool-max", "thread-pool-min", 9, "thread-pool-max", 3);
        rejected("thread-pool-min/thread-pool-max", "thread-pool-max", 0);
        rejected("thread-pool-min/thread-pool-max", "thread-pool-max", 1L << 40);
        rejected("fdmon", "fdmon", "kqueue");
        rejected("aio-engine", "aio-engine", "posix");
    }

    @Test
    void absentOrBlankFieldsTakeQemusIOThreadDefaultsAndHugeValuesAreKept() {
        IOThreadSettings s = IOThreadSettings.parse(props("poll-grow", " ", "aio-max-batch", Long.MAX_VALUE), "io");
        assertEquals(IOThreadSettings.defaults("io").pollMaxNs(), s.pollMaxNs());
        assertEquals(0, s.pollGrow());
        assertEquals(Long.MAX_VALUE, s.aioMaxBatch());
        assertEquals("io", s.name());
    }
}
