package org.aiolos.api.diskio;

import org.aiolos.api.AioContext;

/** Opens one {@link DiskIoEngine} per context (QEMU {@code aio=threads|native|io_uring}). */
public interface DiskIoEngineFactory {

    /** The service property carrying {@link #name()}. */
    String NAME_PROPERTY = "aio.engine";
    String THREADS = "threads";
    String NATIVE = "native";
    String IO_URING = "io_uring";

    String name();

    /** Null when engines can be opened here, otherwise why not (with the errno). */
    String unavailableReason();

    /** Opens an engine whose completions run in {@code ctx}'s home thread. */
    DiskIoEngine open(AioContext ctx);
}
