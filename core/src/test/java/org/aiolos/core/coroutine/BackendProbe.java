package org.aiolos.core.coroutine;

import org.aiolos.api.coroutine.Coroutine;
import org.aiolos.api.coroutine.Coroutines;

/** Run in a child JVM by {@link BackendSelectionTest}: prints the backend it got and whether it works. */
public final class BackendProbe {
    private BackendProbe() {
    }

    public static void main(String[] args) {
        try {
            boolean[] ran = new boolean[1];
            Coroutine co = Coroutines.create("probe", () -> {
                Coroutines.yieldNow();
                ran[0] = true;
            });
            co.enter();
            co.enter();
            System.out.println("backend=" + Coroutines.backend() + " ran=" + ran[0]);
        } catch (RuntimeException e) {
            System.out.println("failed: " + e.getMessage());
            System.exit(3);
        }
    }
}
