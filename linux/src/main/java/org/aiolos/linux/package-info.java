/**
 * FFM bindings to Linux: descriptors, eventfd, poll, epoll, io_uring, Linux AIO, files and
 * TCP and Unix domain sockets. The only package of Aiolos that touches {@code java.lang.foreign}; one
 * internal class owns the {@link java.lang.foreign.Linker} and every downcall handle.
 *
 * <p>Conventions shared by every class:
 * <ul>
 *   <li>Expected outcomes on non-blocking descriptors come back as negative errno values
 *       ({@code -EAGAIN}, {@code -EINTR}; each method says which); any other failure
 *       throws {@link org.aiolos.linux.SyscallException}, whose message names the call,
 *       its key arguments and the errno, e.g.
 *       {@code epoll_ctl(ADD, fd 12): EBADF (Bad file descriptor)}.</li>
 *   <li>Kernel completion results (io_uring CQE {@code res}, Linux AIO {@code io_event}
 *       {@code res}) are exposed raw: negative errno on failure.</li>
 *   <li>Steady-state calls allocate nothing on the Java heap (errno is captured into a
 *       per-thread reusable segment; timespecs and event arrays live in native memory).</li>
 *   <li>{@link org.aiolos.linux.faults.Faults} (in a package the module does not export) can make any call fail or return short, for tests.</li>
 *   <li>Native memory belongs to objects with a {@code close()} that frees it; descriptors
 *       are close-on-exec.</li>
 * </ul>
 *
 * <p>Native access must be enabled: {@code --enable-native-access=ALL-UNNAMED} on the class
 * path and in OSGi (bundles are unnamed modules), {@code --enable-native-access=org.aiolos.linux}
 * on the module path.
 *
 * <p>1.1.0: {@link org.aiolos.linux.UnixSockets} (listening Unix domain sockets).
 */
@Export
@Version("1.1.0")
package org.aiolos.linux;


import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
