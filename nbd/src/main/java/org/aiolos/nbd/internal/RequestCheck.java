package org.aiolos.nbd.internal;

/**
 * What a request gets without touching the disk: {@link #OK}, or the NBD error and why.
 * The reason goes into the error chunk of a structured reply, so a client (qemu-img, nbdinfo)
 * can tell the user what was wrong, as QEMU's messages do ({@code nbd_co_receive_request} and
 * {@code nbd_handle_request} in {@code nbd/server.c}).
 *
 * @param error 0, or the NBD error
 * @param reason why, for an error; null otherwise
 */
record RequestCheck(int error, String reason) {
    static final RequestCheck OK = new RequestCheck(0, null);

    /**
     * Checks a request against the commands and flags served, the export's mode and size.
     *
     * @param blockStatus whether a metadata context was negotiated
     */
    static RequestCheck of(int type, int flags, long offset, long length, Export export, boolean blockStatus) {
        int allowed = Proto.CMD_FLAG_FUA;
        if (type == Proto.CMD_WRITE_ZEROES) {
            allowed |= Proto.CMD_FLAG_NO_HOLE | Proto.CMD_FLAG_FAST_ZERO;
        } else if (type == Proto.CMD_BLOCK_STATUS) {
            allowed |= Proto.CMD_FLAG_REQ_ONE;
        }
        boolean writes = type == Proto.CMD_WRITE || type == Proto.CMD_WRITE_ZEROES;
        switch (type) {
            case Proto.CMD_READ, Proto.CMD_WRITE, Proto.CMD_TRIM, Proto.CMD_WRITE_ZEROES, Proto.CMD_FLUSH -> {
            }
            case Proto.CMD_BLOCK_STATUS -> {
                if (!blockStatus) {
                    return einval("no metadata context was negotiated");
                }
            }
            default -> {
                return einval("unknown command");
            }
        }
        if ((flags & ~allowed) != 0) {
            return einval("unsupported flags 0x" + Integer.toHexString(flags & ~allowed));
        }
        if (export.spec.readOnly() && (writes || type == Proto.CMD_TRIM)) {
            return new RequestCheck(Proto.EPERM, "export is read-only");
        }
        if (type == Proto.CMD_FLUSH) {
            return OK;
        }
        if (type == Proto.CMD_READ && length > Proto.MAX_PAYLOAD) {
            return einval("length exceeds the maximum of " + Proto.MAX_PAYLOAD + " bytes");
        }
        // offset is unsigned on the wire: anything at or past 2^63 is past the end too.
        if (offset < 0 || offset > export.size || length > export.size - offset) {
            return new RequestCheck(writes ? Proto.ENOSPC : Proto.EINVAL,
                    "past the end of the export (size " + export.size + ")");
        }
        if (type == Proto.CMD_BLOCK_STATUS && length == 0) {
            // A successful reply must carry a BLOCK_STATUS chunk with at least one extent
            // (proto.md), and an empty range has none: QEMU's answer and words.
            return einval("need non-zero length");
        }
        return OK;
    }

    private static RequestCheck einval(String reason) {
        return new RequestCheck(Proto.EINVAL, reason);
    }
}
