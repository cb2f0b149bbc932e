package org.aiolos.bench;

import org.openjdk.jmh.annotations.Fork;

/** {@link CoroutineBenchmarkBase} on the continuation backend. */
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-exports",
        "java.base/jdk.internal.vm=ALL-UNNAMED", "-Daiolos.coroutine.backend=continuation"})
public class ContinuationCoroutineBenchmark extends CoroutineBenchmarkBase {
}
