package org.lparemu.core.papr;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The 4 KiB work area of RTAS {@code ibm,update-properties} (papr-notes 6.3), encoded by the platform and
 * decoded by the guest kernel.
 *
 * <p>Layout, big-endian:
 * <pre>
 *   0    be32  phandle of the node being updated (written by the OS before the first call)
 *   4    be32  state: firmware continuation, 0 on the node's first call; the OS passes it back unchanged
 *   8    be64  reserved
 *   16   be32  nprops: number of property descriptors that follow
 *   20   descriptors: NUL-terminated name, be32 value descriptor vd, then the value bytes
 * </pre>
 * The value descriptor says what to do and how many value bytes follow:
 * <ul>
 *   <li>{@code vd == 0}: name only, nothing to do, no value bytes;</li>
 *   <li>{@code vd == 0x80000000}: delete the property, no value bytes;</li>
 *   <li>any other vd with the high bit set: a partial value of {@code -vd} bytes (two's complement); the rest
 *       follows in the next call, under the same name;</li>
 *   <li>otherwise: the full value, {@code vd} bytes.</li>
 * </ul>
 * On a node's first call the first descriptor has an empty name and its value is the node's path; the OS skips
 * it ({@link Descriptor#nodePath(String)}).
 */
public final class UpdatePropertiesWorkArea {

    public static final int SIZE = RtasService.WORK_AREA_SIZE;
    public static final int PHANDLE_OFFSET = 0;
    public static final int STATE_OFFSET = 4;
    public static final int RESERVED_OFFSET = 8;
    public static final int NPROPS_OFFSET = 16;
    public static final int DESCRIPTORS_OFFSET = 20;
    /** Bytes available for descriptors. */
    public static final int CAPACITY = SIZE - DESCRIPTORS_OFFSET;

    /** vd meaning "delete this property". */
    public static final int VD_DELETE = 0x80000000;
    /** vd meaning "name only". */
    public static final int VD_NAME_ONLY = 0;

    /**
     * One property value descriptor. {@code value} holds exactly the bytes that follow vd in the work area (empty
     * for name-only and delete). Arrays are copied in and out, so a descriptor is immutable.
     */
    public record Descriptor(String name, int vd, byte[] value) {
        public Descriptor {
            Objects.requireNonNull(name, "name");
            if (name.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("property name contains NUL: " + name);
            }
            value = value == null ? new byte[0] : value.clone();
            int expected = valueLength(vd);
            if (value.length != expected) {
                throw new IllegalArgumentException("vd 0x" + Integer.toHexString(vd) + " needs " + expected
                        + " value bytes, got " + value.length + " (property '" + name + "')");
            }
        }

        /**
         * A complete value, or the last piece of a value begun with {@link #partial}: vd is the piece's length.
         * An empty value has no encoding here (vd 0 means name-only), so it is refused.
         */
        public static Descriptor full(String name, byte[] value) {
            if (value.length == 0) {
                throw new IllegalArgumentException("an empty value cannot be sent as a full value (vd 0 is name-only): " + name);
            }
            return new Descriptor(name, value.length, value);
        }

        /**
         * A piece of a property's value with more to come: vd = -length. The next call continues the value with
         * a descriptor of the same name, {@code partial} again if still more follows, else {@link #full}.
         */
        public static Descriptor partial(String name, byte[] part) {
            if (part.length == 0) {
                throw new IllegalArgumentException("a partial value needs at least one byte: " + name);
            }
            return new Descriptor(name, -part.length, part);
        }

        /** Delete the property. */
        public static Descriptor delete(String name) {
            return new Descriptor(name, VD_DELETE, null);
        }

        /** Name only: nothing to do. */
        public static Descriptor nameOnly(String name) {
            return new Descriptor(name, VD_NAME_ONLY, null);
        }

        /** The descriptor that opens a node's first call: empty name, value = the node path, NUL-terminated. */
        public static Descriptor nodePath(String path) {
            byte[] b = path.getBytes(StandardCharsets.US_ASCII);
            return new Descriptor("", b.length + 1, Arrays.copyOf(b, b.length + 1));
        }

        @Override
        public byte[] value() {
            return value.clone();
        }

        public boolean isNameOnly() {
            return vd == VD_NAME_ONLY;
        }

        public boolean isDelete() {
            return vd == VD_DELETE;
        }

        /** A partial value: high bit set and not the delete code. */
        public boolean isPartial() {
            return vd < 0 && vd != VD_DELETE;
        }

        public boolean isFull() {
            return vd > 0;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Descriptor d && d.name.equals(name) && d.vd == vd && Arrays.equals(d.value, value);
        }

        @Override
        public int hashCode() {
            return (name.hashCode() * 31 + vd) * 31 + Arrays.hashCode(value);
        }

        @Override
        public String toString() {
            String kind = isNameOnly() ? "name-only" : isDelete() ? "delete" : isPartial() ? "partial " + value.length + "B"
                    : "full " + value.length + "B";
            return "'" + name + "' " + kind;
        }
    }

    /** A decoded work area. */
    public record Decoded(int phandle, int state, List<Descriptor> descriptors) {
        public Decoded {
            descriptors = List.copyOf(descriptors);
        }
    }

    private UpdatePropertiesWorkArea() {
    }

    /** Number of value bytes that follow a value descriptor. */
    public static int valueLength(int vd) {
        if (vd == VD_NAME_ONLY || vd == VD_DELETE) {
            return 0;
        }
        return vd < 0 ? -vd : vd;
    }

    /** Bytes the descriptor occupies in the work area: name, NUL, vd word, value. */
    public static int descriptorBytes(Descriptor d) {
        return d.name().getBytes(StandardCharsets.UTF_8).length + 1 + 4 + valueLength(d.vd());
    }

    /**
     * A work area holding {@code descriptors} for the node {@code phandle} with continuation {@code state}.
     *
     * @throws IllegalArgumentException when the descriptors do not fit in {@link #CAPACITY} bytes
     */
    public static byte[] encode(int phandle, int state, List<Descriptor> descriptors) {
        int total = 0;
        for (Descriptor d : descriptors) {
            total += descriptorBytes(d);
        }
        if (total > CAPACITY) {
            throw new IllegalArgumentException(descriptors.size() + " descriptors need " + total + " bytes, the work area holds "
                    + CAPACITY);
        }
        byte[] wa = new byte[SIZE];
        Be.putInt(wa, PHANDLE_OFFSET, phandle);
        Be.putInt(wa, STATE_OFFSET, state);
        Be.putInt(wa, NPROPS_OFFSET, descriptors.size());
        int pos = DESCRIPTORS_OFFSET;
        for (Descriptor d : descriptors) {
            byte[] name = d.name().getBytes(StandardCharsets.UTF_8);
            System.arraycopy(name, 0, wa, pos, name.length);
            pos += name.length;
            wa[pos++] = 0;
            Be.putInt(wa, pos, d.vd());
            pos += 4;
            byte[] v = d.value;
            System.arraycopy(v, 0, wa, pos, v.length);
            pos += v.length;
        }
        return wa;
    }

    /** The work area the OS hands over on a node's first call: phandle set, everything else zero. */
    public static byte[] initial(int phandle) {
        return encode(phandle, 0, List.of());
    }

    /**
     * Decodes a work area.
     *
     * @throws IllegalArgumentException when it is not 4096 bytes, nprops is negative, or a descriptor runs past
     *                                  the end
     */
    public static Decoded decode(byte[] wa) {
        if (wa == null || wa.length != SIZE) {
            throw new IllegalArgumentException("ibm,update-properties work area must be " + SIZE + " bytes, got "
                    + (wa == null ? "null" : wa.length));
        }
        int phandle = Be.getInt(wa, PHANDLE_OFFSET);
        int state = Be.getInt(wa, STATE_OFFSET);
        int nprops = Be.getInt(wa, NPROPS_OFFSET);
        // Each descriptor takes at least 5 bytes (an empty name's NUL and vd), which bounds a sane count.
        if (nprops < 0 || nprops > CAPACITY / 5) {
            throw new IllegalArgumentException("ibm,update-properties nprops " + nprops + " out of range");
        }
        List<Descriptor> out = new ArrayList<>(nprops);
        int pos = DESCRIPTORS_OFFSET;
        for (int i = 0; i < nprops; i++) {
            int nul = pos;
            while (nul < SIZE && wa[nul] != 0) {
                nul++;
            }
            if (nul + 1 + 4 > SIZE) {
                throw new IllegalArgumentException("descriptor " + i + " runs past the end of the work area");
            }
            String name = new String(wa, pos, nul - pos, StandardCharsets.UTF_8);
            pos = nul + 1;
            int vd = Be.getInt(wa, pos);
            pos += 4;
            int len = valueLength(vd);
            if (len > SIZE - pos) {
                throw new IllegalArgumentException("descriptor " + i + " ('" + name + "') value of " + len
                        + " bytes runs past the end of the work area");
            }
            out.add(new Descriptor(name, vd, Arrays.copyOfRange(wa, pos, pos + len)));
            pos += len;
        }
        return new Decoded(phandle, state, out);
    }
}
