package org.aiolos.api;

/**
 * Readiness bits, with the values of Linux {@code poll(2)} (which glib's {@code G_IO_*}
 * share). A handler with a read callback watches {@link #READ}; one with a write callback
 * watches {@link #WRITE}.
 */
public final class FdEvents {
    public static final int IN = 0x001;
    public static final int PRI = 0x002;
    public static final int OUT = 0x004;
    public static final int ERR = 0x008;
    public static final int HUP = 0x010;
    public static final int NVAL = 0x020;

    /** What a read callback is woken for: data, hang-up or error. */
    public static final int READ = IN | HUP | ERR;
    /** What a write callback is woken for: space or error. */
    public static final int WRITE = OUT | ERR;

    private FdEvents() {
    }

    /** A readable rendering such as {@code IN|HUP}, for messages. */
    public static String toString(int events) {
        if (events == 0) {
            return "0";
        }
        StringBuilder sb = new StringBuilder();
        String[] names = {"IN", "PRI", "OUT", "ERR", "HUP", "NVAL"};
        for (int i = 0; i < names.length; i++) {
            if ((events & (1 << i)) != 0) {
                sb.append(sb.isEmpty() ? "" : "|").append(names[i]);
            }
        }
        int rest = events & ~0x3f;
        if (rest != 0) {
            sb.append(sb.isEmpty() ? "" : "|").append("0x").append(Integer.toHexString(rest));
        }
        return sb.toString();
    }
}
