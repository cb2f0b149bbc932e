package org.aiolos.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.aiolos.linux.Errno;
import org.aiolos.nbd.internal.Proto;
import org.junit.jupiter.api.Test;

/** The errno mapping of QEMU's system_errno_to_nbd_errno, as docs/nbd.md lists it. */
class ProtoTest {
    @Test
    void systemErrnosMapToNbdErrors() {
        assertEquals(0, Proto.nbdError(0));
        assertEquals(Proto.EPERM, Proto.nbdError(Errno.EPERM));
        assertEquals(Proto.EPERM, Proto.nbdError(Errno.EROFS));
        assertEquals(Proto.EIO, Proto.nbdError(Errno.EIO));
        assertEquals(Proto.ENOMEM, Proto.nbdError(Errno.ENOMEM));
        assertEquals(Proto.ENOSPC, Proto.nbdError(Errno.ENOSPC));
        assertEquals(Proto.ENOSPC, Proto.nbdError(Errno.EFBIG));
        assertEquals(Proto.ENOSPC, Proto.nbdError(122), "EDQUOT");
        assertEquals(Proto.EOVERFLOW, Proto.nbdError(Errno.EOVERFLOW));
        assertEquals(Proto.ENOTSUP, Proto.nbdError(Errno.EOPNOTSUPP));
        assertEquals(Proto.ESHUTDOWN, Proto.nbdError(Errno.ESHUTDOWN));
        assertEquals(Proto.EINVAL, Proto.nbdError(Errno.EBADF), "anything else");
        assertEquals(Proto.EINVAL, Proto.nbdError(Errno.EINVAL));
    }
}
