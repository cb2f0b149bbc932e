package org.aiolos.core.coroutine;

/** Coroutines on {@code jdk.internal.vm.Continuation}: the default when it is accessible. */
final class ContinuationBackend extends Backend {
    static final ContinuationBackend INSTANCE = new ContinuationBackend();

    private ContinuationBackend() {
        super(0);
    }

    @Override
    String name() {
        return CONTINUATION;
    }

    @Override
    Fiber newFiber() {
        return new ContinuationFiber();
    }

    @Override
    boolean fibersNeedDestroy() {
        return true; // to leave the continuation-to-fiber index
    }
}
