package org.aiolos.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.concurrent.atomic.AtomicInteger;
import org.aiolos.fdmon.epoll.EpollFdMonitorFactory;
import org.aiolos.fdmon.poll.PollFdMonitorFactory;
import org.junit.jupiter.api.Test;

/** Ranking changes (SCR's modified callback) as contexts see them. */
class BackendProvidersTest {
    @Test
    void rerankReordersInOneStepAndNeverShowsTheFactoryMissing() {
        FdMonitorProviders providers = new FdMonitorProviders();
        PollFdMonitorFactory poll = new PollFdMonitorFactory();
        EpollFdMonitorFactory epoll = new EpollFdMonitorFactory();
        providers.add(poll, 10);
        providers.add(epoll, 5);
        AtomicInteger fired = new AtomicInteger();
        AtomicInteger sawEpollMissing = new AtomicInteger();
        providers.addListener(() -> {
            fired.incrementAndGet();
            if (!providers.contains(epoll)) {
                sawEpollMissing.incrementAndGet();
            }
        });
        assertSame(poll, providers.best().factory());

        providers.rerank(epoll, 20);
        assertEquals(1, fired.get(), "listeners hear of a ranking change once");
        assertEquals(0, sawEpollMissing.get(), "a re-ranked factory is never withdrawn meanwhile");
        assertSame(epoll, providers.best().factory());
        assertEquals(2, providers.list().size());

        providers.rerank(epoll, 1);
        assertSame(poll, providers.best().factory());
        assertEquals(2, providers.list().size(), "re-ranking replaces, never duplicates");
    }

    @Test
    void rerankOfAnAbsentFactoryAddsIt() {
        FdMonitorProviders providers = new FdMonitorProviders();
        EpollFdMonitorFactory epoll = new EpollFdMonitorFactory();
        providers.rerank(epoll, 3);
        assertEquals(1, providers.list().size());
        assertEquals(3, providers.list().get(0).ranking());
    }
}
