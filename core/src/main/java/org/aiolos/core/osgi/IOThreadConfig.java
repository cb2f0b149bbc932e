package org.aiolos.core.osgi;

import org.aiolos.api.PollParams;
import org.aiolos.api.diskio.DiskIoEngineFactory;
import org.aiolos.api.fdmon.FdMonitorFactory;
import org.aiolos.api.threadpool.ThreadPool;
import org.aiolos.core.ContextOptions;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;

/**
 * The Metatype description of one IOThread's factory configuration (PID
 * {@value IOThreadComponent#FACTORY_PID}): the one place its names, types, bounds, options
 * and defaults are written (the default numbers themselves are the api's and core's
 * constants, so the Metatype and {@link ContextOptions} cannot disagree). bnd turns it into {@code OSGI-INF/metatype}, which a
 * configuration UI shows and from which {@link org.aiolos.core.config.MetatypeSchemas}
 * builds the checks every configuration goes through ({@link IOThreadSettings}), from a
 * file or the shell, before anything is stored or applied. {@code $_$} in a method name
 * is a {@code -} in the property name.
 */
@ObjectClassDefinition(name = "Aiolos IOThread",
        description = "A thread running one AioContext; one configuration per IOThread.")
@interface IOThreadConfig {

    @AttributeDefinition(description = "The IOThread's name, also its context's and its MBean's; by default"
            + " iothread-<the configuration's name>. Fixed once the IOThread runs.", required = false)
    String name();

    @AttributeDefinition(description = "Longest adaptive busy poll in ns; 0 turns polling off.", min = "0")
    long poll$_$max$_$ns() default PollParams.IOTHREAD_POLL_MAX_NS;

    @AttributeDefinition(description = "Poll-time growth factor; 0 means 2.", min = "0")
    long poll$_$grow() default 0;

    @AttributeDefinition(description = "Poll-time shrink divisor; 0 means reset to 0.", min = "0")
    long poll$_$shrink() default 0;

    @AttributeDefinition(description = "Most disk-I/O requests submitted in one batch; 0 means the engine default.",
            min = "0")
    long aio$_$max$_$batch() default 0;

    @AttributeDefinition(description = "Thread-pool workers kept alive.", min = "0")
    int thread$_$pool$_$min() default 0;

    @AttributeDefinition(description = "Most thread-pool workers.", min = "1")
    int thread$_$pool$_$max() default ThreadPool.DEFAULT_MAX_THREADS;

    @AttributeDefinition(description = "The fd monitor; empty means the best available (QEMU's policy).",
            options = {@Option(label = "best available", value = ""), @Option(label = "poll(2)", value = FdMonitorFactory.POLL),
                    @Option(label = "epoll(7)", value = FdMonitorFactory.EPOLL),
                    @Option(label = "io_uring", value = FdMonitorFactory.IO_URING)},
            required = false)
    String fdmon() default "";

    @AttributeDefinition(description = "The disk-I/O engine; empty means the best available.",
            options = {@Option(label = "best available", value = ""), @Option(label = "threads", value = DiskIoEngineFactory.THREADS),
                    @Option(label = "Linux AIO", value = DiskIoEngineFactory.NATIVE),
                    @Option(label = "io_uring", value = DiskIoEngineFactory.IO_URING)},
            required = false)
    String aio$_$engine() default "";

    @AttributeDefinition(description = "How long thread-pool and disk-I/O requests made while no provider of their "
            + "kind is available wait for one (a bundle update or refresh) before they fail, in ms.", min = "0")
    long backend$_$wait$_$ms() default ContextOptions.DEFAULT_BACKEND_WAIT_MS;
}
