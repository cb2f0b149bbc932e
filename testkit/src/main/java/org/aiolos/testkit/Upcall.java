package org.aiolos.testkit;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.function.Supplier;

/**
 * Runs Java code below a native frame: libc's qsort calling back through an FFM up-call.
 * A coroutine of the continuation backend cannot yield there, so this pins it.
 */
public final class Upcall {
    private static volatile Supplier<Object> inside;
    private static volatile Object result;

    private Upcall() {
    }

    public static Object callThroughNative(Supplier<Object> body) {
        inside = body;
        result = null;
        Linker linker = Linker.nativeLinker();
        try (Arena arena = Arena.ofConfined()) {
            MethodHandle qsort = linker.downcallHandle(linker.defaultLookup().find("qsort").orElseThrow(),
                    FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                            ValueLayout.ADDRESS));
            MethodHandle compare = MethodHandles.lookup().findStatic(Upcall.class, "compare",
                    MethodType.methodType(int.class, MemorySegment.class, MemorySegment.class));
            MemorySegment stub = linker.upcallStub(compare, FunctionDescriptor.of(ValueLayout.JAVA_INT,
                    ValueLayout.ADDRESS, ValueLayout.ADDRESS), arena);
            MemorySegment two = arena.allocate(ValueLayout.JAVA_INT, 2);
            qsort.invoke(two, 2L, 4L, stub);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        return result;
    }

    private static int compare(MemorySegment a, MemorySegment b) {
        Supplier<Object> s = inside;
        inside = null;
        if (s != null) {
            result = s.get();
        }
        return 0;
    }
}
