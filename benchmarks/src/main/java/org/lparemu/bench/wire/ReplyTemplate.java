package org.lparemu.bench.wire;

import java.io.IOException;
import org.lparemu.proto.v1.HcallResponse;
import org.lparemu.proto.v1.HostFrame;

/**
 * The daemon's real reply to the workload's call, captured once, so that the floor and the gRPC baseline
 * answer with exactly the same message (same fields, same size) and only the call id changes.
 */
public record ReplyTemplate(HcallResponse response) {

    public HostFrame reply(long callId) {
        return HostFrame.newBuilder().setHcall(response.toBuilder().setCallId(callId)).build();
    }

    /** "request N bytes, reply M bytes" for call id 1, each plus its varint length prefix on the wire. */
    public String sizes(Workload w) {
        return "request " + w.frame(1).getSerializedSize() + " bytes, reply " + reply(1).getSerializedSize()
                + " bytes (call id 1; plus the varint length prefix)";
    }

    public long status() {
        return response.getStatus();
    }

    /** Asks the daemon once, through a plain socket. */
    public static ReplyTemplate capture(int daemonPort, Workload w) throws IOException {
        try (SocketCaller c = SocketCaller.connect(daemonPort, w, "bench-capture")) {
            HostFrame f = c.roundTrip(1);
            return new ReplyTemplate(f.getHcall().toBuilder().setCallId(0).build());
        }
    }
}
