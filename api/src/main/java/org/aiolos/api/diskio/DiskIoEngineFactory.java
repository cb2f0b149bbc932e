package org.aiolos.api.diskio;

import org.aiolos.api.AioContext;
import org.aiolos.api.BackendFactory;

/** Opens one {@link DiskIoEngine} per context (QEMU {@code aio=threads|native|io_uring}). */
public interface DiskIoEngineFactory extends BackendFactory<DiskIoEngine, AioContext> {

    /** The service property carrying {@link #name()} ({@code <kind>.name}, as the other SPIs). */
    String NAME_PROPERTY = "diskio.name";

    /**
     * The property's name before 1.0.0 of this package. Providers publish it beside
     * {@link #NAME_PROPERTY} for one version, so service filters written against it keep
     * matching; it goes in the next major version.
     */
    @Deprecated
    String LEGACY_NAME_PROPERTY = "aio.engine";

    String THREADS = "threads";
    String NATIVE = "native";
    String IO_URING = "io_uring";

    /** {@code threads}, {@code native}, {@code io_uring}, or another provider's name. */
    @Override
    String name();


    /** Opens an engine whose completions run in {@code ctx}'s home thread. */
    @Override
    DiskIoEngine open(AioContext ctx);
}
