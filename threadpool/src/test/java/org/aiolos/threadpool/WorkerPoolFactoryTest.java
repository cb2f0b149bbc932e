package org.aiolos.threadpool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The DS configuration of the factory (the {@code idle.timeout.ms} component property). */
class WorkerPoolFactoryTest {

    @Test
    void idleTimeoutDefaultsToQemusTenSecondsAndFollowsTheComponentProperty() {
        WorkerPoolFactory f = new WorkerPoolFactory();
        assertEquals(Duration.ofSeconds(10), f.idleTimeout());
        assertEquals("workers", f.name());
        f.configure(Map.of(WorkerPoolFactory.IDLE_TIMEOUT_PROPERTY, 150L));
        assertEquals(Duration.ofMillis(150), f.idleTimeout());
        f.configure(Map.of(WorkerPoolFactory.IDLE_TIMEOUT_PROPERTY, " 250 "));
        assertEquals(Duration.ofMillis(250), f.idleTimeout());
        f.configure(Map.of());
        assertEquals(Duration.ofMillis(250), f.idleTimeout(), "an absent property keeps the value");
    }

    @Test
    void badIdleTimeoutsAreRejectedWithTheirName() {
        WorkerPoolFactory f = new WorkerPoolFactory();
        IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
                () -> f.configure(Map.of(WorkerPoolFactory.IDLE_TIMEOUT_PROPERTY, 0)));
        assertTrue(zero.getMessage().contains("idle.timeout.ms must be > 0"), zero.getMessage());
        IllegalArgumentException text = assertThrows(IllegalArgumentException.class,
                () -> f.configure(Map.of(WorkerPoolFactory.IDLE_TIMEOUT_PROPERTY, "soon")));
        assertTrue(text.getMessage().contains("'soon'"), text.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new WorkerPoolFactory(Duration.ofMillis(-1)));
        assertEquals(Duration.ofSeconds(10), f.idleTimeout(), "rejected values leave the old one");
    }
}
