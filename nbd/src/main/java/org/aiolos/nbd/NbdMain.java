package org.aiolos.nbd;

/** The standalone NBD server (skeleton; the implementation follows). */
public final class NbdMain {
    private NbdMain() {
    }

    public static void main(String[] args) throws Exception {
        throw new UnsupportedOperationException("NbdMain: not implemented yet");
    }
}
