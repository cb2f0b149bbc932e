package org.aiolos.nbd;

import java.nio.file.Path;

/**
 * A snapshot of one export's counters.
 *
 * @param name the export name clients ask for
 * @param file the image file
 * @param size the size in bytes clients see (fixed when the export was added)
 * @param readOnly whether writes are refused
 * @param engine the disk-I/O engine serving it ({@code threads}, {@code native}, {@code io_uring})
 * @param connections clients currently in transmission on it
 * @param requests transmission requests received (every command, including failed ones)
 * @param bytesRead bytes read from the image for clients
 * @param bytesWritten bytes written to the image for clients
 * @param errors requests answered with an error
 */
public record ExportStats(String name, Path file, long size, boolean readOnly, String engine, int connections,
        long requests, long bytesRead, long bytesWritten, long errors) {
}
