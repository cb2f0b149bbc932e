package org.aiolos.core.loop;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.aiolos.core.TestContexts;
import org.junit.jupiter.api.Test;

class NotifierRegistrationTest {
    @Test
    void theContextsOwnNotifierCannotBeReplacedOrRemovedByUsers() {
        TestContexts contexts = new TestContexts();
        ContextImpl ctx = (ContextImpl) contexts.open("own-notifier");
        int fd = ctx.notifierFd();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ctx.setFdHandler(fd, () -> { }, null));
        assertTrue(e.getMessage().contains("notifier"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ctx.removeFdHandler(fd));
        assertFalse(ctx.poll(false));
        ctx.wakeUp();
        ctx.scheduleOneshot("alive", () -> { });
        assertTrue(ctx.poll(true), "wake-ups still work");
        contexts.closeAll();
    }
}
