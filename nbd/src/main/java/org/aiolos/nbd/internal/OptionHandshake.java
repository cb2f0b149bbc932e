package org.aiolos.nbd.internal;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.aiolos.nbd.internal.Wire.U16;
import static org.aiolos.nbd.internal.Wire.U32;
import static org.aiolos.nbd.internal.Wire.U64;
import static org.aiolos.nbd.internal.Wire.printable;
import static org.aiolos.nbd.internal.Wire.utf8;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/**
 * The fixed-newstyle option haggling of one connection, from the server's greeting to the
 * option that enters transmission (QEMU's {@code nbd_negotiate} and
 * {@code nbd_negotiate_options} in {@code nbd/server.c}). Runs in the connection's
 * receiver coroutine, which has the stream to itself until transmission starts.
 */
final class OptionHandshake {
    private static final System.Logger LOG = System.getLogger("org.aiolos.nbd");

    private final ServerCore server;
    private final String peer;
    private final MemorySegment in;
    private final MemorySegment out;
    /** Null when the listener does not offer TLS. */
    private final TlsUpgrade tls;
    private final boolean tlsRequired;
    private NbdStream stream;
    private boolean tlsActive;
    /** The verified client certificate's subject (RFC 2253 canonical) once TLS is up; null without one. */
    private String clientDn;
    /** The same subject as the certificate says it (RFC 2253), for messages; allow-lists compare {@link #clientDn}. */
    private String clientName;
    /** A refusal by an export's allow-list was logged at WARNING: later ones in this connection log at DEBUG. */
    private boolean refusalLogged;
    private boolean structured;
    private boolean noZeroes;
    /** The export NBD_OPT_SET_META_CONTEXT selected base:allocation for, or null. */
    private String metaExport;

    /**
     * @param in the receiver's buffer, at least {@link Proto#MAX_OPTION_LENGTH} bytes
     * @param out the writers' buffer, at least {@link Proto#MAX_OPTION_LENGTH} bytes
     * @param tls how to upgrade to TLS on NBD_OPT_STARTTLS; null when the listener offers none
     * @param tlsRequired refuse every option but STARTTLS and ABORT before the upgrade
     */
    OptionHandshake(ServerCore server, NbdStream stream, String peer, MemorySegment in, MemorySegment out,
            TlsUpgrade tls, boolean tlsRequired) {
        this.server = server;
        this.stream = stream;
        this.tls = tls;
        this.tlsRequired = tlsRequired && tls != null;
        this.peer = peer;
        this.in = in;
        this.out = out;
    }

    /** Structured replies were negotiated. */
    boolean structured() {
        return structured;
    }

    /** base:allocation was selected for {@code e}, the export transmission is on. */
    boolean blockStatusFor(Export e) {
        return structured && e.name().equals(metaExport);
    }

    /** Runs the TLS handshake once the STARTTLS reply is out, and returns the TLS stream. */
    interface TlsUpgrade {
        TlsStream upgrade();
    }

    /** The stream transmission continues on. */
    NbdStream stream() {
        return stream;
    }

    /** @return the export the client entered transmission on, or null when it aborted */
    Export run() {
        out.set(U64, 0, Proto.NBDMAGIC);
        out.set(U64, 8, Proto.IHAVEOPT);
        out.set(U16, 16, (short) (Proto.FLAG_FIXED_NEWSTYLE | Proto.FLAG_NO_ZEROES));
        stream.writeFully(out, 18);
        stream.readFully(in, 4);
        int clientFlags = in.get(U32, 0);
        if ((clientFlags & ~(Proto.CLIENT_FLAG_FIXED_NEWSTYLE | Proto.CLIENT_FLAG_NO_ZEROES)) != 0) {
            throw new ProtocolError("unknown client flags 0x" + Integer.toHexString(clientFlags));
        }
        noZeroes = (clientFlags & Proto.CLIENT_FLAG_NO_ZEROES) != 0;
        while (true) {
            stream.readFully(in, 16);
            long magic = in.get(U64, 0);
            int option = in.get(U32, 8);
            long length = Integer.toUnsignedLong(in.get(U32, 12));
            if (magic != Proto.IHAVEOPT) {
                throw new ProtocolError("bad option magic 0x" + Long.toHexString(magic));
            }
            if (length > Proto.MAX_OPTION_LENGTH) {
                throw new ProtocolError("option " + option + " has a " + length + "-byte payload, more than the "
                        + Proto.MAX_OPTION_LENGTH + " accepted");
            }
            int len = (int) length;
            stream.readFully(in, len);
            if (tlsRequired && !tlsActive && option != Proto.OPT_STARTTLS && option != Proto.OPT_ABORT) {
                // QEMU's nbd_negotiate_options: nothing but the upgrade (or goodbye) in plaintext.
                if (option == Proto.OPT_EXPORT_NAME) {
                    throw new ProtocolError("NBD_OPT_EXPORT_NAME without TLS on a listener that requires it");
                }
                error(option, Proto.REP_ERR_TLS_REQD, "TLS is required first (NBD_OPT_STARTTLS)");
                continue;
            }
            switch (option) {
                case Proto.OPT_EXPORT_NAME -> {
                    return exportName(len);
                }
                case Proto.OPT_ABORT -> {
                    try {
                        reply(option, Proto.REP_ACK, 0);
                    } catch (ConnectionClosed ignored) {
                        // the client may already have gone, as it is allowed to
                    }
                    return null;
                }
                case Proto.OPT_LIST -> list(option, len);
                case Proto.OPT_INFO, Proto.OPT_GO -> {
                    Export e = infoOrGo(option, len);
                    if (e != null && option == Proto.OPT_GO) {
                        return e;
                    }
                }
                case Proto.OPT_STRUCTURED_REPLY -> {
                    if (len != 0) {
                        error(option, Proto.REP_ERR_INVALID, "NBD_OPT_STRUCTURED_REPLY takes no data");
                    } else if (structured) {
                        error(option, Proto.REP_ERR_INVALID, "structured replies are already negotiated");
                    } else {
                        structured = true;
                        reply(option, Proto.REP_ACK, 0);
                    }
                }
                case Proto.OPT_LIST_META_CONTEXT, Proto.OPT_SET_META_CONTEXT -> metaContext(option, len);
                case Proto.OPT_STARTTLS -> startTls(option, len);
                default -> error(option, Proto.REP_ERR_UNSUP, "option " + option + " is not supported");
            }
        }
    }

    /**
     * NBD_OPT_STARTTLS (QEMU's {@code nbd_negotiate_handle_starttls}): acknowledged in
     * plaintext, then the TLS handshake, then the options start over on the TLS stream.
     * What was negotiated before the upgrade is forgotten, so nothing a man in the middle
     * sent in plaintext carries over.
     */
    private void startTls(int option, int len) {
        if (tls == null) {
            error(option, Proto.REP_ERR_UNSUP, "TLS is not supported");
        } else if (len != 0) {
            error(option, Proto.REP_ERR_INVALID, "NBD_OPT_STARTTLS takes no data");
        } else if (tlsActive) {
            error(option, Proto.REP_ERR_INVALID, "TLS is already active");
        } else {
            reply(option, Proto.REP_ACK, 0);
            TlsStream s = tls.upgrade();
            stream = s;
            clientDn = s.peerCanonicalName();
            clientName = s.peerName();
            tlsActive = true;
            structured = false;
            metaExport = null;
        }
    }

    /** NBD_OPT_EXPORT_NAME: no error reply exists, so an unknown name ends the connection. */
    private Export exportName(int len) {
        String name = utf8(in, 0, len);
        Export e = server.findExport(name);
        if (e == null) {
            throw new ProtocolError("NBD_OPT_EXPORT_NAME for unknown export " + printable(name));
        }
        if (!e.spec.admits(clientDn)) {
            throw new ProtocolError("NBD_OPT_EXPORT_NAME for export " + printable(name) + ", which "
                    + (clientDn == null ? "needs a verified client certificate" : "does not allow client " + clientName));
        }
        out.set(U64, 0, e.size);
        out.set(U16, 8, (short) e.transmissionFlags());
        int n = 10;
        if (!noZeroes) {
            out.asSlice(10, 124).fill((byte) 0);
            n += 124;
        }
        stream.writeFully(out, n);
        return e;
    }

    private void list(int option, int len) {
        if (len != 0) {
            error(option, Proto.REP_ERR_INVALID, "NBD_OPT_LIST takes no data");
            return;
        }
        for (Export e : server.listExports()) {
            if (!e.spec.admits(clientDn)) {
                continue; // an export this client may not use is not its business
            }
            byte[] name = e.nameBytes();
            byte[] description = e.descriptionBytes();
            out.set(U32, 20, name.length);
            MemorySegment.copy(name, 0, out, JAVA_BYTE, 24, name.length);
            MemorySegment.copy(description, 0, out, JAVA_BYTE, 24 + name.length, description.length);
            reply(option, Proto.REP_SERVER, 4 + name.length + description.length);
        }
        reply(option, Proto.REP_ACK, 0);
    }

    /** NBD_OPT_INFO / NBD_OPT_GO: answers, and returns the export when it succeeded. */
    private Export infoOrGo(int option, int len) {
        if (len < 6) {
            error(option, Proto.REP_ERR_INVALID, "request too short");
            return null;
        }
        long nameLen = Integer.toUnsignedLong(in.get(U32, 0));
        if (nameLen > len - 6) {
            error(option, Proto.REP_ERR_INVALID, "name length " + nameLen + " exceeds the option");
            return null;
        }
        int n = (int) nameLen;
        int requests = Short.toUnsignedInt(in.get(U16, 4 + n));
        if (len != 4 + n + 2 + 2 * requests) {
            error(option, Proto.REP_ERR_INVALID, "option length " + len + " does not match " + requests
                    + " information requests");
            return null;
        }
        String name = utf8(in, 4, n);
        Export e = server.findExport(name);
        if (e == null) {
            error(option, Proto.REP_ERR_UNKNOWN, "export " + printable(name) + " not found");
            return null;
        }
        if (refused(option, e)) {
            return null;
        }
        boolean wantName = false;
        boolean wantDescription = false;
        for (int i = 0; i < requests; i++) {
            int type = Short.toUnsignedInt(in.get(U16, 4 + n + 2 + 2L * i));
            wantName |= type == Proto.INFO_NAME;
            wantDescription |= type == Proto.INFO_DESCRIPTION;
        }
        // NBD_INFO_EXPORT
        out.set(U16, 20, (short) Proto.INFO_EXPORT);
        out.set(U64, 22, e.size);
        out.set(U16, 30, (short) e.transmissionFlags());
        reply(option, Proto.REP_INFO, 12);
        if (wantName) {
            byte[] b = e.nameBytes();
            out.set(U16, 20, (short) Proto.INFO_NAME);
            MemorySegment.copy(b, 0, out, JAVA_BYTE, 22, b.length);
            reply(option, Proto.REP_INFO, 2 + b.length);
        }
        if (wantDescription && e.descriptionBytes().length > 0) {
            byte[] b = e.descriptionBytes();
            out.set(U16, 20, (short) Proto.INFO_DESCRIPTION);
            MemorySegment.copy(b, 0, out, JAVA_BYTE, 22, b.length);
            reply(option, Proto.REP_INFO, 2 + b.length);
        }
        // NBD_INFO_BLOCK_SIZE: any byte offset and length works (the server aligns for O_DIRECT).
        out.set(U16, 20, (short) Proto.INFO_BLOCK_SIZE);
        out.set(U32, 22, 1);
        out.set(U32, 26, e.preferredBlockSize());
        out.set(U32, 30, Proto.MAX_PAYLOAD);
        reply(option, Proto.REP_INFO, 14);
        reply(option, Proto.REP_ACK, 0);
        return e;
    }

    /**
     * NBD_OPT_LIST_META_CONTEXT / NBD_OPT_SET_META_CONTEXT: the one context served is
     * base:allocation; queries for it, for "base:", or (LIST only) no query at all match it.
     */
    private void metaContext(int option, int len) {
        boolean set = option == Proto.OPT_SET_META_CONTEXT;
        if (set && !structured) {
            error(option, Proto.REP_ERR_INVALID, "NBD_OPT_SET_META_CONTEXT needs structured replies first");
            return;
        }
        if (len < 8) {
            error(option, Proto.REP_ERR_INVALID, "request too short");
            return;
        }
        long nameLen = Integer.toUnsignedLong(in.get(U32, 0));
        if (nameLen > len - 8) {
            error(option, Proto.REP_ERR_INVALID, "name length " + nameLen + " exceeds the option");
            return;
        }
        String name = utf8(in, 4, (int) nameLen);
        long pos = 4 + nameLen;
        long queries = Integer.toUnsignedLong(in.get(U32, pos));
        pos += 4;
        boolean match = !set && queries == 0;
        for (long q = 0; q < queries; q++) {
            if (pos + 4 > len) {
                error(option, Proto.REP_ERR_INVALID, "query " + q + " runs past the option");
                return;
            }
            long qLen = Integer.toUnsignedLong(in.get(U32, pos));
            pos += 4;
            if (qLen > len - pos) {
                error(option, Proto.REP_ERR_INVALID, "query " + q + " runs past the option");
                return;
            }
            String query = utf8(in, pos, (int) qLen);
            pos += qLen;
            match |= query.equals(Proto.BASE_ALLOCATION) || (!set && query.equals("base:"));
        }
        if (pos != len) {
            error(option, Proto.REP_ERR_INVALID, "option length " + len + " does not match its queries");
            return;
        }
        Export e = server.findExport(name);
        if (e == null) {
            error(option, Proto.REP_ERR_UNKNOWN, "export " + printable(name) + " not found");
            return;
        }
        if (refused(option, e)) {
            return;
        }
        if (set) {
            metaExport = match ? name : null;
        }
        if (match) {
            byte[] b = Proto.BASE_ALLOCATION.getBytes(StandardCharsets.UTF_8);
            out.set(U32, 20, Proto.BASE_ALLOCATION_ID);
            MemorySegment.copy(b, 0, out, JAVA_BYTE, 24, b.length);
            reply(option, Proto.REP_META_CONTEXT, 4 + b.length);
        }
        reply(option, Proto.REP_ACK, 0);
    }

    /**
     * The export's allow-list (QEMU's {@code tls-authz}, checked per export here): a client
     * without TLS is told to start it ({@code NBD_REP_ERR_TLS_REQD}, the NBD protocol's
     * answer for an export that needs TLS on a listener where it is optional), one whose
     * certificate is not on the list gets {@code NBD_REP_ERR_POLICY}, logged with its name.
     *
     * @return true when the option was refused (the error reply is sent)
     */
    private boolean refused(int option, Export e) {
        if (e.spec.admits(clientDn)) {
            return false;
        }
        if (!tlsActive) {
            error(option, Proto.REP_ERR_TLS_REQD, "export " + printable(e.name()) + " requires TLS (NBD_OPT_STARTTLS)");
            return true;
        }
        String who = clientDn == null ? "a client without a certificate" : "client certificate '" + clientName + "'";
        error(option, Proto.REP_ERR_POLICY, who + " is not allowed to use export " + printable(e.name()));
        System.Logger.Level level = refusalLogged ? System.Logger.Level.DEBUG : System.Logger.Level.WARNING;
        refusalLogged = true;
        LOG.log(level, () -> "NBD client " + peer + ": " + who + " refused for export " + printable(e.name())
                + " (not on its allow-list)");
        return true;
    }

    /** Sends an option reply whose {@code dataLen} bytes of data are already at out[20..]. */
    private void reply(int option, int type, int dataLen) {
        out.set(U64, 0, Proto.OPTION_REPLY_MAGIC);
        out.set(U32, 8, option);
        out.set(U32, 12, type);
        out.set(U32, 16, dataLen);
        stream.writeFully(out, 20L + dataLen);
    }

    private void error(int option, int type, String message) {
        byte[] b = message.getBytes(StandardCharsets.UTF_8);
        MemorySegment.copy(b, 0, out, JAVA_BYTE, 20, b.length);
        reply(option, type, b.length);
        LOG.log(System.Logger.Level.DEBUG, () -> "NBD client " + peer + ": option " + option + ": " + message);
    }
}
