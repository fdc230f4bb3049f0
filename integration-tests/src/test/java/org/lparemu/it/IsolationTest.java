package org.lparemu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.lparemu.client.ControlClient;
import org.lparemu.core.hypervisor.PlatformConfig;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.papr.VasiSignal;
import org.lparemu.proto.v1.ControlRequest;
import org.lparemu.proto.v1.ControlResponse;
import org.lparemu.proto.v1.DeletePartition;
import org.lparemu.proto.v1.ErrorCode;
import org.lparemu.proto.v1.EventAck;
import org.lparemu.proto.v1.GuestFrame;
import org.lparemu.proto.v1.HostFrame;
import org.lparemu.proto.v1.ListPartitions;
import org.lparemu.proto.v1.PartitionSpec;
import org.lparemu.proto.v1.PlatformEvent;
import org.lparemu.proto.v1.ProtocolError;
import org.lparemu.proto.v1.Reset;
import org.lparemu.proto.v1.VasiState;
import org.lparemu.server.EmbeddedDaemon;
import org.lparemu.server.LparemuServer;
import org.lparemu.server.ServerSettings;
import org.slf4j.LoggerFactory;

/**
 * One partition's guest can never reach another partition's windows, stream or events; control operations
 * exist only on the control port; the control token is enforced; and binding anywhere but loopback without
 * a token is warned about loudly.
 */
class IsolationTest {
    static final Duration WAIT = Duration.ofSeconds(10);

    @Test
    void windowIdsAndVasiStreamsNeverCrossPartitionsOverSockets() throws Exception {
        try (EmbeddedDaemon d = EmbeddedDaemon.start(); ControlClient c = d.control()) {
            c.createPartition(PartitionSpec.newBuilder().setName("lpar2").build());
            try (RawGuest g1 = new RawGuest(d.guestPort(), "lpar1"); RawGuest g2 = new RawGuest(d.guestPort(), "lpar2")) {
                long w1 = g1.openWindow();
                assertEquals(HStatus.H_PARAMETER, g2.hcall(0, Hcall.H_MODIFY_VAS_WINDOW, w1, 9, 0, Vas.MOD_WIN_CLOSE, 0)
                        .getStatus());
                assertEquals(HStatus.H_PARAMETER, g2.hcall(0, Hcall.H_QUERY_VAS_WINDOW, w1, 0x10000).getStatus());
                assertEquals(HStatus.H_PARAMETER, g2.hcall(0, Hcall.H_DEALLOCATE_VAS_WINDOW, w1).getStatus());
                assertEquals(0, c.getState("lpar2").getWindowsCount());
                var s1 = c.getState("lpar1");
                assertEquals(List.of(w1), s1.getWindowsList().stream().map(w -> w.getWinId()).toList());
                assertEquals(0, s1.getWindows(0).getStatus(), "still ACTIVE");

                var m = c.migrate("lpar1", "");
                assertEquals(HStatus.H_PARAMETER, g2.hcall(0, Hcall.H_VASI_STATE, m.getStreamId()).getStatus());
                assertEquals(HStatus.H_PARAMETER,
                        g2.hcall(0, Hcall.H_VASI_SIGNAL, m.getStreamId(), VasiSignal.CANCEL, 0).getStatus());
                assertEquals(VasiState.VASI_SUSPENDING, c.getState("lpar1").getMigration().getVasiState());
                assertEquals(HStatus.H_SUCCESS, g1.hcall(0, Hcall.H_VASI_STATE, m.getStreamId()).getStatus());
            }
        }
    }

    @Test
    void eventsGoOnlyToTheirPartitionAndAForeignAckIsIgnored() throws Exception {
        try (EmbeddedDaemon d = EmbeddedDaemon.start(); ControlClient c = d.control()) {
            c.createPartition(PartitionSpec.newBuilder().setName("lpar2").build());
            try (RawGuest g1 = new RawGuest(d.guestPort(), "lpar1"); RawGuest g2 = new RawGuest(d.guestPort(), "lpar2")) {
                var m = c.migrate("lpar1", "");
                long qos2 = c.setQosCredits("lpar2", 3);
                long qos1 = c.setQosCredits("lpar1", 5);
                // Events reach a connection in the order pushed: lpar2's first event is its own.
                PlatformEvent e2 = g2.event();
                assertEquals(qos2, e2.getEventId());
                assertEquals(3, e2.getQosCredits().getCredits());
                assertEquals(m.getEventId(), g1.event().getEventId());
                assertEquals(qos1, g1.event().getEventId());
                // lpar2 acknowledging lpar1's events changes nothing.
                g2.conn.send(GuestFrame.newBuilder().setEventAck(EventAck.newBuilder().setEventId(m.getEventId())).build());
                g2.conn.send(GuestFrame.newBuilder().setEventAck(EventAck.newBuilder().setEventId(qos1)).build());
                g2.conn.send(GuestFrame.newBuilder().setEventAck(EventAck.newBuilder().setEventId(qos2)).build());
                c.awaitEvent(qos2, WAIT);
                assertEquals(Set.of(m.getEventId(), qos1), Set.copyOf(c.getState("lpar1").getPendingEventsList()
                        .stream().map(e -> e.getEventId()).toList()));
                assertEquals(0, c.getState("lpar2").getPendingEventsCount());
                // One more for lpar2, and still nothing of lpar1's on its connection.
                long again = c.setQosCredits("lpar2", 4);
                assertEquals(again, g2.event().getEventId());
                assertTrue(g2.events.isEmpty());
            }
        }
    }

    @Test
    void controlRequestsOnTheGuestPortAreProtocolErrorsNotOperations() throws Exception {
        try (EmbeddedDaemon d = EmbeddedDaemon.start(); ControlClient c = d.control()) {
            List<ControlRequest> ops = List.of(
                    ControlRequest.newBuilder().setRequestId(1).setReset(Reset.getDefaultInstance()).build(),
                    ControlRequest.newBuilder().setRequestId(7).setDeletePartition(
                            DeletePartition.newBuilder().setPartition("lpar1")).build(),
                    ControlRequest.newBuilder().setAuthToken("tok").setDeletePartition(
                            DeletePartition.newBuilder().setPartition("lpar1")).build(),
                    ControlRequest.newBuilder().setListPartitions(ListPartitions.getDefaultInstance()).build());
            for (ControlRequest op : ops) {
                for (boolean afterHello : new boolean[] {false, true}) {
                    try (RawConn g = new RawConn(d.guestPort())) {
                        if (afterHello) {
                            assertEquals(HostFrame.KindCase.WELCOME, g.hello("lpar1").getKindCase());
                        }
                        g.send(op);
                        HostFrame f = g.readHost();
                        assertEquals(HostFrame.KindCase.ERROR, f.getKindCase(), op + " after hello " + afterHello);
                        assertTrue(Set.of(ProtocolError.Code.MALFORMED_FRAME, ProtocolError.Code.NO_HELLO)
                                .contains(f.getError().getCode()), f.toString());
                        assertTrue(g.closedByPeer());
                    }
                }
            }
            assertEquals(List.of("lpar1"), c.listPartitions().stream().map(p -> p.getName()).toList());
        }
    }

    @Test
    void theControlTokenIsRequiredAndAWrongOrMissingOneClosesTheConnection() throws Exception {
        try (EmbeddedDaemon d = EmbeddedDaemon.start(PlatformConfig.defaults(), ServerSettings.ephemeral()
                .withToken("s3cret"))) {
            for (String token : new String[] {"", "s3creT", "s3cret-", "wrong"}) {
                try (RawConn raw = new RawConn(d.controlPort())) {
                    raw.send(ControlRequest.newBuilder().setRequestId(5).setAuthToken(token)
                            .setDeletePartition(DeletePartition.newBuilder().setPartition("lpar1")).build());
                    // A second request pipelined behind it must not run either.
                    raw.send(ControlRequest.newBuilder().setRequestId(6).setAuthToken("s3cret")
                            .setDeletePartition(DeletePartition.newBuilder().setPartition("lpar1")).build());
                    ControlResponse r = raw.readControl();
                    assertEquals(5, r.getRequestId());
                    assertEquals(ErrorCode.UNAUTHENTICATED, r.getError().getCode(), "token '" + token + "'");
                    assertTrue(raw.closedByPeer(), "token '" + token + "'");
                }
            }
            // Authenticated by its first request, a connection may omit the token afterwards.
            try (RawConn raw = new RawConn(d.controlPort())) {
                raw.send(ControlRequest.newBuilder().setRequestId(1).setAuthToken("s3cret")
                        .setListPartitions(ListPartitions.getDefaultInstance()).build());
                assertEquals(1, raw.readControl().getPartitions().getPartitionsCount(), "the partition survived");
                raw.send(ControlRequest.newBuilder().setRequestId(2)
                        .setListPartitions(ListPartitions.getDefaultInstance()).build());
                assertEquals(2, raw.readControl().getRequestId());
            }
            assertTrue(d.server().errors().counts().get("control UNAUTHENTICATED") >= 4);
        }
    }

    @Test
    void bindingBeyondLoopbackWithoutATokenWarnsLoudly() throws Exception {
        Logger logger = (Logger) LoggerFactory.getLogger(LparemuServer.class);
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        logger.addAppender(logs);
        try {
            InetAddress any = InetAddress.getByName("0.0.0.0");
            try (EmbeddedDaemon d = EmbeddedDaemon.start(PlatformConfig.defaults(),
                    new ServerSettings(any, 0, 0, null, 1)); ControlClient c = d.control()) {
                assertEquals(1, c.listPartitions().size());
            }
            List<String> warnings = warnings(logs);
            assertTrue(warnings.stream().anyMatch(w -> w.contains("INSECURE") && w.contains("0.0.0.0")
                    && w.contains("--control-token")), warnings.toString());

            logs.list.clear();
            try (EmbeddedDaemon d = EmbeddedDaemon.start()) {
                assertTrue(d.server().connections().isEmpty());
            }
            assertEquals(List.of(), warnings(logs), "loopback (the default) is quiet");

            logs.list.clear();
            try (EmbeddedDaemon d = EmbeddedDaemon.start(PlatformConfig.defaults(),
                    new ServerSettings(any, 0, 0, "tok", 1))) {
                assertEquals(0, d.server().openConnections());
            }
            List<String> withToken = warnings(logs);
            assertTrue(withToken.stream().noneMatch(w -> w.contains("INSECURE")), withToken.toString());
            assertTrue(withToken.stream().anyMatch(w -> w.contains("guest port")), withToken.toString());
        } finally {
            logger.detachAppender(logs);
        }
    }

    private static List<String> warnings(ListAppender<ILoggingEvent> logs) {
        return logs.list.stream().filter(e -> e.getLevel() == Level.WARN)
                .map(ILoggingEvent::getFormattedMessage).toList();
    }
}
