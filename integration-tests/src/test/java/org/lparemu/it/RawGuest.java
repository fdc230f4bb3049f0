package org.lparemu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.Vas;
import org.lparemu.proto.v1.GuestFrame;
import org.lparemu.proto.v1.HcallRequest;
import org.lparemu.proto.v1.HcallResponse;
import org.lparemu.proto.v1.HostFrame;
import org.lparemu.proto.v1.PlatformEvent;

/**
 * A guest on a plain socket (so a test can make it vanish with RST, as a killed process does): sends hcalls,
 * reads replies in whatever order they come, and keeps the platform events it sees.
 */
final class RawGuest implements AutoCloseable {
    final RawConn conn;
    final List<PlatformEvent> events = new ArrayList<>();
    private final Map<Long, HcallResponse> early = new HashMap<>();
    private long nextId = 1;

    RawGuest(int port, String partition) throws IOException {
        conn = new RawConn(port);
        HostFrame w = conn.hello(partition);
        assertEquals(HostFrame.KindCase.WELCOME, w.getKindCase(), w.toString());
    }

    /** Sends an hcall without waiting; returns its call id. */
    long send(int vcpu, long opcode, long... args) throws IOException {
        long id = nextId++;
        // H_JOIN goes out with interrupts disabled, as a kernel makes it (from stop_machine).
        HcallRequest.Builder b = HcallRequest.newBuilder().setCallId(id).setVcpu(vcpu).setOpcode(opcode)
                .setInterruptsDisabled(opcode == Hcall.H_JOIN);
        for (long a : args) {
            b.addArgs(a);
        }
        conn.send(GuestFrame.newBuilder().setHcall(b).build());
        return id;
    }

    /** The reply to call {@code id} (events and other replies that come first are kept). */
    HcallResponse reply(long id) throws IOException {
        HcallResponse r = early.remove(id);
        while (r == null) {
            HostFrame f = conn.readHost();
            if (f == null) {
                throw new IOException("connection closed while waiting for call " + id);
            }
            switch (f.getKindCase()) {
                case HCALL -> {
                    if (f.getHcall().getCallId() == id) {
                        r = f.getHcall();
                    } else {
                        early.put(f.getHcall().getCallId(), f.getHcall());
                    }
                }
                case EVENT -> events.add(f.getEvent());
                default -> throw new IOException("unexpected frame " + f);
            }
        }
        return r;
    }

    HcallResponse hcall(int vcpu, long opcode, long... args) throws IOException {
        return reply(send(vcpu, opcode, args));
    }

    /** allocate + modify: an ACTIVE window; returns its id. */
    long openWindow() throws IOException {
        HcallResponse a = hcall(0, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_DEFAULT, 1, Vas.DEFAULT_DOMAIN_ID);
        assertEquals(HStatus.H_SUCCESS, a.getStatus(), a.toString());
        long id = a.getRets(0);
        assertEquals(HStatus.H_SUCCESS, hcall(0, Hcall.H_MODIFY_VAS_WINDOW, id, 77, 0, Vas.MOD_WIN_FLAGS, 0).getStatus());
        return id;
    }

    /** Reads frames until a platform event arrives (or one already did). */
    PlatformEvent event() throws IOException {
        while (events.isEmpty()) {
            HostFrame f = conn.readHost();
            if (f == null) {
                throw new IOException("connection closed while waiting for an event");
            }
            if (f.getKindCase() == HostFrame.KindCase.EVENT) {
                events.add(f.getEvent());
            } else if (f.getKindCase() == HostFrame.KindCase.HCALL) {
                early.put(f.getHcall().getCallId(), f.getHcall());
            } else {
                throw new IOException("unexpected frame " + f);
            }
        }
        return events.remove(0);
    }

    /** Vanish with RST, like a killed process. */
    void abort() throws IOException {
        conn.abort();
    }

    @Override
    public void close() throws IOException {
        conn.close();
    }
}
