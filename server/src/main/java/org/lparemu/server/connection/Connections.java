package org.lparemu.server.connection;

import io.netty.channel.WriteBufferWaterMark;
import io.netty.util.AttributeKey;

/**
 * What the daemon's bootstrap and its per-connection handlers share about a connection: the channel attributes
 * the bootstrap sets, the watermarks it configures and the user event it fires at shutdown. Kept apart from
 * {@code LparemuServer} so that handlers never import the bootstrap.
 */
public final class Connections {
    /** Set on a channel accepted over the connection limit. */
    public static final AttributeKey<Boolean> OVER_LIMIT = AttributeKey.valueOf("lparemu.overLimit");
    /** Which port a connection came in on: "guest" or "control". */
    public static final AttributeKey<String> PORT = AttributeKey.valueOf("lparemu.port");
    /** Outbound bytes above which a connection stops reading until its peer catches up. */
    public static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(256 * 1024, 1024 * 1024);
    /** User event fired at every open connection when the daemon stops (answer SHUTTING_DOWN, then close). */
    public static final Object SHUTDOWN = new Object() {
        @Override
        public String toString() {
            return "SHUTDOWN";
        }
    };

    private Connections() {
    }
}
