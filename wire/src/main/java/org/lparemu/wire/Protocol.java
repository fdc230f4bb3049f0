package org.lparemu.wire;

/** Constants of the wire contract that both ends need (see {@code proto/src/main/proto/lparemu/v1/}). */
public final class Protocol {
    /** The protocol version this build speaks (Hello.protocol_version, Welcome.protocol_version). */
    public static final int PROTOCOL_VERSION = 1;
    /** The emulator's version, sent in Welcome and printed by the CLI. */
    public static final String EMULATOR_VERSION = "0.1.0";

    private Protocol() {
    }
}
