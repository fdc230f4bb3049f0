package org.lparemu.core.papr;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * VAS / NX-GZIP constants and big-endian buffer layouts shared by the hypervisor (which writes them) and the
 * guest kernel (which reads them). papr-notes 3.1 - 3.5.
 */
public final class Vas {
    /** Credit types, the hypervisor's win_type numbering (index into the kernel's vascaps[]). */
    public static final int WIN_TYPE_QOS = 0;
    public static final int WIN_TYPE_DEFAULT = 1;
    public static final int WIN_TYPES = 2;

    /** H_QUERY_VAS_CAPABILITIES query types. */
    public static final int QUERY_OVERALL = 0;
    public static final int QUERY_GZIP_QOS = 1;
    public static final int QUERY_GZIP_DEFAULT = 2;

    /** Feature bits of the overall capabilities' feat_type. */
    public static final long FEAT_GZIP_QOS = PprBits.ppcBit(1);
    public static final long FEAT_GZIP_DEFAULT = PprBits.ppcBit(2);

    /** Descriptors ("VQosGzip", "VDefGzip"). */
    public static final long DESCRIPTOR_QOS = 0x56516F73477A6970L;
    public static final long DESCRIPTOR_DEFAULT = 0x56446566477A6970L;
    /** Overall descriptor: "VAS-CAPS" in ASCII (value chosen by lparemu). */
    public static final long DESCRIPTOR_OVERALL = 0x5641532D43415053L;

    /** user_mode bits. */
    public static final int USER_MODE_COPY_PASTE = 0x1;
    public static final int USER_MODE_COP_OP = 0x10;

    /** H_MODIFY_VAS_WINDOW flags. */
    public static final long MOD_WIN_CLOSE = PprBits.ppcBit(0);
    public static final long MOD_WIN_JOBS_KILL = PprBits.ppcBit(1);
    public static final long MOD_WIN_DR = PprBits.ppcBit(3);
    public static final long MOD_WIN_PR = PprBits.ppcBit(4);
    public static final long MOD_WIN_SF = PprBits.ppcBit(5);
    public static final long MOD_WIN_TA = PprBits.ppcBit(6);
    /** What Linux passes: JOBS_KILL | DR | PR | SF = 0x5C00000000000000. */
    public static final long MOD_WIN_FLAGS = MOD_WIN_JOBS_KILL | MOD_WIN_DR | MOD_WIN_PR | MOD_WIN_SF;
    public static final long MOD_WIN_KNOWN_FLAGS = MOD_WIN_CLOSE | MOD_WIN_FLAGS | MOD_WIN_TA;

    /** Domain word meaning "hypervisor chooses" (VAS_DEFAULT_DOMAIN_ID). */
    public static final long DEFAULT_DOMAIN_ID = 0xFFFFFFFFFFFFFFFFL;
    /** Paste address meaning COPY/PASTE unsupported (VAS_INVALID_WIN_ADDRESS). */
    public static final long INVALID_WIN_ADDRESS = 0xFFFFFFFFFFFFFFFFL;
    /** Credits Linux asks per window (DEF_WIN_CREDS). */
    public static final int DEF_WIN_CREDS = 1;

    /** Hypervisor window status values (hv_vas_win_lpar.status). */
    public static final int HV_WIN_ACTIVE = 0;
    public static final int HV_WIN_CLOSED = 1;
    public static final int HV_WIN_INACTIVE = 2;
    public static final int HV_WIN_MOD_IN_PROCESS = 3;

    /** Linux window status bits (asm/vas.h). */
    public static final int VAS_WIN_ACTIVE = 0x0;
    public static final int VAS_WIN_NO_CRED_CLOSE = 0x1;
    public static final int VAS_WIN_MIGRATE_CLOSE = 0x2;

    /** H_QUERY_NX_CAPABILITIES query types: 0 overall ({@link AllCaps}), 1 NX GZIP ({@link NxGzipCaps}). */
    public static final int NX_QUERY_OVERALL = 0;
    public static final int NX_QUERY_GZIP = 1;
    /** NX feature bit for GZIP in the overall NX capabilities. */
    public static final long NX_FEAT_GZIP = PprBits.ppcBit(1);
    /** NX descriptors ("NX-CAPS", "NXGZIP"; values chosen by lparemu). */
    public static final long NX_DESCRIPTOR_OVERALL = 0x4E582D4341505300L;
    public static final long NX_DESCRIPTOR_GZIP = 0x4E58475A49500000L;

    /** Size of the capability buffers (they are 4 KiB aligned pages). */
    public static final int CAPS_BUFFER_SIZE = 4096;
    /** Layout size of hv_vas_cop_feat_caps as written. */
    public static final int COP_FEAT_CAPS_BYTES = 18;
    /** Layout size of hv_vas_win_lpar as written. */
    public static final int WIN_LPAR_BYTES = 88;
    private static final VarHandle BE_SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle BE_INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle BE_LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
    /** Bytes of a coprocessor request block (CRB), the unit H_GET_NX_FAULT copies out: one cache line. */
    public static final int CRB_BYTES = 128;
    /** Alignment of the buffer H_GET_NX_FAULT writes the CRB into. */
    public static final int CRB_ALIGN = 128;
    /** CSB completion code the kernel reports for a request NX could not complete because of a fault. */
    public static final int CSB_CC_FAULT_ADDRESS = 250;
    /** CSB completion extension: the request terminated (output may be modified, counts invalid). */
    public static final int CSB_CE_TERMINATION = 0x40;

    private Vas() {
    }

    /** Overall capabilities (query type 0): descriptor @0, feat_type @8. */
    public record AllCaps(long descriptor, long featType) {
        public byte[] encode() {
            byte[] out = new byte[16];
            ByteBuffer b = be(out);
            b.putLong(descriptor).putLong(featType);
            return out;
        }

        public static AllCaps decode(byte[] buf) {
            ByteBuffer b = wrap(buf, 16);
            return new AllCaps(b.getLong(0), b.getLong(8));
        }
    }

    /** hv_vas_cop_feat_caps (query types 1 and 2). */
    public record CopFeatCaps(long descriptor, int winType, int userMode, int maxLparCreds, int maxWinCreds,
                              int defLparCreds, int targetLparCreds) {
        public byte[] encode() {
            byte[] out = new byte[COP_FEAT_CAPS_BYTES];
            ByteBuffer b = be(out);
            b.putLong(0, descriptor);
            b.put(8, (byte) winType);
            b.put(9, (byte) userMode);
            b.putShort(10, (short) maxLparCreds);
            b.putShort(12, (short) maxWinCreds);
            b.putShort(14, (short) defLparCreds);
            b.putShort(16, (short) targetLparCreds);
            return out;
        }

        public static CopFeatCaps decode(byte[] buf) {
            ByteBuffer b = wrap(buf, COP_FEAT_CAPS_BYTES);
            return new CopFeatCaps(b.getLong(0), b.get(8) & 0xFF, b.get(9) & 0xFF, b.getShort(10) & 0xFFFF,
                    b.getShort(12) & 0xFFFF, b.getShort(14) & 0xFFFF, b.getShort(16) & 0xFFFF);
        }
    }

    /** NX GZIP capabilities (H_QUERY_NX_CAPABILITIES feature 1): four be64 words. */
    public record NxGzipCaps(long descriptor, long reqMaxProcessedLen, long minCompressLen, long minDecompressLen) {
        public byte[] encode() {
            byte[] out = new byte[32];
            ByteBuffer b = be(out);
            b.putLong(descriptor).putLong(reqMaxProcessedLen).putLong(minCompressLen).putLong(minDecompressLen);
            return out;
        }

        public static NxGzipCaps decode(byte[] buf) {
            ByteBuffer b = wrap(buf, 32);
            return new NxGzipCaps(b.getLong(0), b.getLong(8), b.getLong(16), b.getLong(24));
        }
    }

    /** hv_vas_win_lpar, written by H_QUERY_VAS_WINDOW. */
    public record WinLpar(int version, int winType, int status, int credits, long pid, long tid, long winAddr,
                          long interrupt, long fault, long[] domain, long winUtil) {
        /**
         * The 88 big-endian bytes. Written with array views rather than a ByteBuffer: H_QUERY_VAS_WINDOW answers
         * with this on every call, and the buffer's bounds and scope checks were most of the handler's cost.
         */
        public byte[] encode() {
            return encode(version, winType, status, credits, pid, tid, winAddr, interrupt, fault, domain, winUtil);
        }

        /** {@link #encode()} of the record these fields would make, without making it. */
        public static byte[] encode(int version, int winType, int status, int credits, long pid, long tid, long winAddr,
                                    long interrupt, long fault, long[] domain, long winUtil) {
            byte[] out = new byte[WIN_LPAR_BYTES];
            BE_SHORT.set(out, 0, (short) version);
            out[2] = (byte) winType;
            out[3] = (byte) status;
            BE_SHORT.set(out, 4, (short) credits);
            BE_INT.set(out, 8, (int) pid);
            BE_INT.set(out, 12, (int) tid);
            BE_LONG.set(out, 16, winAddr);
            BE_INT.set(out, 24, (int) interrupt);
            BE_INT.set(out, 28, (int) fault);
            for (int i = 0; i < 6; i++) {
                BE_LONG.set(out, 32 + 8 * i, domain != null && i < domain.length ? domain[i] : 0L);
            }
            BE_LONG.set(out, 80, winUtil);
            return out;
        }

        public static WinLpar decode(byte[] buf) {
            ByteBuffer b = wrap(buf, WIN_LPAR_BYTES);
            long[] domain = new long[6];
            for (int i = 0; i < 6; i++) {
                domain[i] = b.getLong(32 + 8 * i);
            }
            return new WinLpar(b.getShort(0) & 0xFFFF, b.get(2) & 0xFF, b.get(3) & 0xFF, b.getShort(4) & 0xFFFF,
                    b.getInt(8) & 0xFFFFFFFFL, b.getInt(12) & 0xFFFFFFFFL, b.getLong(16),
                    b.getInt(24) & 0xFFFFFFFFL, b.getInt(28) & 0xFFFFFFFFL, domain, b.getLong(80));
        }
    }

    /**
     * The parts of a faulted coprocessor request block that the fault path reads (icswx.h layout): the CCW
     * (be32 @0), the CSB address (be64 @8), and NX's fault stamp: the faulting storage address (be64 @64), the
     * fault status (u8 @75) and the process-specific window id (be32 @76). The rest of the 128 bytes is zero here.
     */
    public record FaultCrb(int ccw, long csbAddress, long faultStorageAddress, int faultStatus, int pswid) {
        public byte[] encode() {
            byte[] out = new byte[CRB_BYTES];
            ByteBuffer b = be(out);
            b.putInt(0, ccw);
            b.putLong(8, csbAddress);
            b.putLong(64, faultStorageAddress);
            b.put(75, (byte) faultStatus);
            b.putInt(76, pswid);
            return out;
        }

        public static FaultCrb decode(byte[] buf) {
            ByteBuffer b = wrap(buf, CRB_BYTES);
            return new FaultCrb(b.getInt(0), b.getLong(8), b.getLong(64), b.get(75) & 0xFF, b.getInt(76));
        }
    }

    /**
     * A coprocessor status block as the kernel writes it for a faulted request ({@code vas_update_csb}): completion
     * code, completion extension, and the faulting address (in NX's big-endian order, as the CRB carried it).
     */
    public record Csb(int cc, int ce, long address) {
    }

    private static ByteBuffer be(byte[] out) {
        return ByteBuffer.wrap(out).order(ByteOrder.BIG_ENDIAN);
    }

    private static ByteBuffer wrap(byte[] buf, int need) {
        if (buf == null || buf.length < need) {
            throw new IllegalArgumentException("buffer of " + (buf == null ? 0 : buf.length) + " bytes, need " + need);
        }
        return ByteBuffer.wrap(buf).order(ByteOrder.BIG_ENDIAN);
    }
}
