package org.aiolos.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The shell's key=value words: key= removes a key; malformed words are all reported. */
class AssignmentsTest {

    @Test
    void setsAndRemovalsApplyToTheCurrentProperties() {
        Assignments a = Assignments.parse("poll-max-ns=4000", "fdmon=", "description=a=b");
        assertEquals(Map.of("poll-max-ns", "4000", "description", "a=b"), a.set());
        assertEquals(List.of("fdmon"), a.removed());
        assertEquals(Map.of("name", "io1", "poll-max-ns", "4000", "description", "a=b"),
                a.applyTo(Map.of("name", "io1", "fdmon", "epoll", "poll-max-ns", "1")));
    }

    @Test
    void malformedWordsAreAllReported() {
        InvalidConfigurationException e = assertThrows(InvalidConfigurationException.class,
                () -> Assignments.parse("poll", "=5", "a=1", "a=2"));
        assertEquals(List.of("'poll': expected key=value (or key= to go back to the default)",
                "'=5': expected key=value (or key= to go back to the default)", "a: given twice"), e.errors());
        assertEquals("3 errors: " + String.join("; ", e.errors()), e.toString());
    }
}
