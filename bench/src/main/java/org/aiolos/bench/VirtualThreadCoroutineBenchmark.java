package org.aiolos.bench;

import org.openjdk.jmh.annotations.Fork;

/** {@link CoroutineBenchmarkBase} on the virtual-thread backend. */
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-exports",
        "java.base/jdk.internal.vm=ALL-UNNAMED", "-Daiolos.coroutine.backend=virtual-thread"})
public class VirtualThreadCoroutineBenchmark extends CoroutineBenchmarkBase {
}
