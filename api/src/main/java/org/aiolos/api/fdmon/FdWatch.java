package org.aiolos.api.fdmon;

/**
 * One registered handler as a monitor sees it (QEMU {@code AioHandler}): an fd, the
 * events it waits for, and a registration id that is unique for the life of the context.
 * Replacing a handler creates a new watch; the old one is retired ({@link #isDeleted()}).
 */
public interface FdWatch {

    int fd();

    /** The {@link org.aiolos.api.FdEvents} bits to watch; 0 for none. */
    int events();

    /** A slot index in the high half and a generation in the low half. */
    long registrationId();

    /** Whether the handler was removed or replaced; its events must be dropped. */
    boolean isDeleted();
}
