package org.aiolos.linux;

final class Placeholder {
    private Placeholder() {
    }
}
