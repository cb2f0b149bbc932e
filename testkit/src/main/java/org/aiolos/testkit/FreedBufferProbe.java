package org.aiolos.testkit;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.nio.file.Path;
import org.aiolos.api.AioContext;
import org.aiolos.api.diskio.DiskIoEngine;
import org.aiolos.api.diskio.DiskIoEngineFactory;

/**
 * Run in a JVM of its own by {@link DiskEngineContract}: as the first disk request of the
 * JVM, a 1 MiB read into memory whose arena is closed, on the engine of the contract
 * subclass named by the first argument (its {@code factory()} and {@code newContext}, so the
 * probe is wired exactly as the suite). Prints how it was refused and exits 0; exits 2 if
 * it was accepted. A crash of the JVM shows as its exit status (134 for an abort).
 */
public final class FreedBufferProbe {
    private FreedBufferProbe() {
    }

    public static void main(String[] args) throws Exception {
        Constructor<?> make = Class.forName(args[0]).getDeclaredConstructor();
        make.setAccessible(true);
        DiskEngineContract suite = (DiskEngineContract) make.newInstance();
        Method factoryOf = DiskEngineContract.class.getDeclaredMethod("factory");
        Method contextOf = DiskEngineContract.class.getDeclaredMethod("newContext", ContextSpec.class);
        DiskIoEngineFactory factory = (DiskIoEngineFactory) factoryOf.invoke(suite);
        CallbackFailures failures = new CallbackFailures();
        AioContext ctx = (AioContext) contextOf.invoke(suite, new ContextSpec("freed-buffer-probe", null, null,
                failures));
        try (TestFile file = new TestFile(Path.of(args[1]), DiskEngineContract.FILE_SIZE, 7)) {
            ctx.poll(false);
            DiskIoEngine engine = factory.open(ctx);
            Arena arena = Arena.ofShared();
            MemorySegment buffer = TestFile.buffer(arena, 1 << 20);
            arena.close();
            long[] result = {Long.MIN_VALUE, Long.MIN_VALUE};
            try {
                engine.readv(file.buffered, 0, new MemorySegment[] {buffer}, r -> result[0] = r);
            } catch (IllegalArgumentException refused) {
                System.out.println("refused: " + refused.getMessage());
            }
            while (result[0] == Long.MIN_VALUE && engine.inFlight() > 0) {
                ctx.poll(true);
            }
            if (result[0] != Long.MIN_VALUE) {
                System.out.println("accepted, completed with " + result[0]);
                System.exit(2);
            }
            try (Arena live = Arena.ofConfined()) {
                engine.readv(file.buffered, 0, new MemorySegment[] {TestFile.buffer(live, 4096)}, r -> result[1] = r);
                while (result[1] == Long.MIN_VALUE) {
                    ctx.poll(true);
                }
                System.out.println("engine still works: " + result[1]);
            }
            engine.close();
        } finally {
            ctx.close();
        }
    }
}
