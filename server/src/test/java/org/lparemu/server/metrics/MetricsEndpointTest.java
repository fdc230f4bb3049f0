package org.lparemu.server.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.lparemu.client.ControlClient;
import org.lparemu.client.GuestConnection;
import org.lparemu.core.guest.GuestConfig;
import org.lparemu.core.guest.GuestKernel;
import org.lparemu.core.guest.PrrnPolicy;
import org.lparemu.core.guest.SystemGuestClock;
import org.lparemu.core.guest.VasPolicy;
import org.lparemu.core.hypervisor.PlatformConfig;
import org.lparemu.core.port.HcallResult;
import org.lparemu.proto.v1.FaultMatch;
import org.lparemu.proto.v1.FaultRule;
import org.lparemu.proto.v1.Hold;
import org.lparemu.proto.v1.ReturnStatus;
import org.lparemu.server.EmbeddedDaemon;
import org.lparemu.server.ServerSettings;

/**
 * {@code serve --metrics-port}: a real HTTP client scrapes the daemon's Prometheus endpoint and watches the counters
 * move as calls are answered, refused and faulted, a migration completes and a bad frame is refused.
 */
class MetricsEndpointTest {
    static final Duration WAIT = Duration.ofSeconds(20);
    static final long UNKNOWN_OPCODE = 0x4444;
    static final long FAULTED_OPCODE = 0x4448;
    static final long HELD_OPCODE = 0x444C;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void metricsAreOffUnlessAskedFor() {
        try (EmbeddedDaemon d = EmbeddedDaemon.start()) {
            assertEquals(-1, d.server().metricsPort());
        }
    }

    @Test
    void aScrapeSeesCallsRefusalsFaultsMigrationsEventsAndRefusedFrames() throws Exception {
        ServerSettings settings = ServerSettings.ephemeral().withMetrics(null, 0);
        try (EmbeddedDaemon d = EmbeddedDaemon.start(PlatformConfig.defaults(), settings);
             ControlClient c = d.control();
             // calls only: the guest kernel below takes the platform events
             GuestConnection g = GuestConnection.connect("127.0.0.1", d.guestPort(), "lpar1", "raw", false, WAIT, WAIT)) {
            int port = d.server().metricsPort();
            assertTrue(port > 0, "an ephemeral metrics port: " + port);
            String before = scrape(port);
            assertEquals(1.0, value(before, "lparemu_partitions"));
            assertEquals(1.0, value(before, "lparemu_connections{port=\"guest\"}"));
            assertEquals(0.0, value(before, "lparemu_calls_in_flight"));

            assertEquals(-2, g.hcall(0, UNKNOWN_OPCODE).status(), "no handler: H_FUNCTION");
            assertEquals(-2, g.hcall(1, UNKNOWN_OPCODE).status());
            c.addFault(FaultRule.newBuilder().setMatch(FaultMatch.newBuilder().setOpcode(FAULTED_OPCODE))
                    .setReturnStatus(ReturnStatus.newBuilder().setStatus(-9)).build());
            assertEquals(-9, g.hcall(0, FAULTED_OPCODE).status());
            c.addFault(FaultRule.newBuilder().setMatch(FaultMatch.newBuilder().setOpcode(HELD_OPCODE))
                    .setHold(Hold.newBuilder().setLatch("gate")).build());
            CompletableFuture<HcallResult> held = g.hcallAsync(2, HELD_OPCODE, new long[0], null);
            c.awaitHold("gate", 1, WAIT);
            assertThrows(RuntimeException.class, () -> g.hcall(2, UNKNOWN_OPCODE), "vCPU 2 is inside the held call");

            String during = scrape(port);
            assertEquals(2.0, value(during, "lparemu_hcalls_total{call=\"other\",status=\"H_FUNCTION\"}"));
            assertEquals(1.0, value(during, "lparemu_hcalls_total{call=\"other\",status=\"H_NO_MEM\"}"));
            assertEquals(3.0, value(during, "lparemu_call_duration_seconds_count{call=\"other\"}"));
            assertEquals(1.0, value(during, "lparemu_calls_refused_total{reason=\"VCPU_BUSY\"}"));
            assertEquals(0.0, value(during, "lparemu_calls_refused_total{reason=\"RTAS_BUSY\"}"));
            assertEquals(1.0, value(during, "lparemu_calls_in_flight"));
            assertEquals(1.0, value(during, "lparemu_fault_rules_fired_total{action=\"ReturnStatus\"}"));
            assertEquals(1.0, value(during, "lparemu_fault_rules_fired_total{action=\"Hold\"}"));
            c.releaseHold("gate", 0);
            assertEquals(-2, held.get(WAIT.toSeconds(), TimeUnit.SECONDS).status());
            c.clearFaults();

            try (GuestConnection port0 = d.guest("lpar1");
                 GuestKernel k = GuestKernel.boot(port0, new GuestConfig(VasPolicy.UPSTREAM,
                         PrrnPolicy.DRAIN_BEFORE_SUSPEND, new SystemGuestClock(0.001), "lpar1"))) {
                assertTrue(k.nxGzip().open(false, -1).ok());
                c.migrate("lpar1", "");
                assertTrue(c.awaitMigration("lpar1", WAIT).getSuccess());
                long dlpar = c.dlparCpu("lpar1", true, 1).getEventIdsList().get(0);
                c.awaitEvent(dlpar, WAIT);
            }
            refuseOneFrame(d.guestPort());

            String after = scrape(port);
            assertEquals(1.0, value(after, "lparemu_migrations_total{outcome=\"completed\"}"));
            assertEquals(0.0, value(after, "lparemu_migrations_total{outcome=\"aborted\"}"));
            assertEquals(1.0, value(after, "lparemu_platform_events_total{kind=\"MigrationRequest\"}"));
            assertEquals(1.0, value(after, "lparemu_platform_events_total{kind=\"DlparCpu\"}"));
            assertEquals(1.0, value(after, "lparemu_fault_rules_fired_total{action=\"ReturnStatus\"}"),
                    "rules cleared since: their fires still count");
            assertTrue(value(after, "lparemu_hcalls_total{call=\"H_JOIN\",status=\"H_SUCCESS\"}") >= 1.0, after);
            assertTrue(value(after, "lparemu_rtas_calls_total{service=\"ibm,suspend-me\",status=\"SUCCESS\"}") >= 1.0,
                    after);
            assertTrue(value(after, "lparemu_call_duration_seconds_count{call=\"H_ALLOCATE_VAS_WINDOW\"}") >= 1.0);
            assertEquals(1.0, value(after, "lparemu_frames_refused_total{kind=\"guest MALFORMED_FRAME\"}"), after);
            assertEquals(0.0, value(after, "lparemu_calls_in_flight"));
        }
    }

    @Test
    void theEndpointBindsLoopbackByDefault() throws Exception {
        ServerSettings settings = ServerSettings.ephemeral().withMetrics(null, 0);
        assertEquals(InetAddress.getLoopbackAddress(), settings.metricsBind());
        try (EmbeddedDaemon d = EmbeddedDaemon.start(PlatformConfig.defaults(), settings)) {
            HttpResponse<String> health = http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + d.server().metricsPort() + "/-/healthy")).timeout(WAIT).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode());
        }
    }

    private String scrape(int port) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                .timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"), r.headers().toString());
        return r.body();
    }

    /** The value of the sample written exactly as {@code series} (name and labels) in the text format. */
    static double value(String text, String series) {
        Matcher m = Pattern.compile("^" + Pattern.quote(series) + " (\\S+)$", Pattern.MULTILINE).matcher(text);
        assertTrue(m.find(), "no sample " + series + " in:\n" + text);
        return Double.parseDouble(m.group(1));
    }

    /** Sends a frame that does not parse and waits for the daemon to close the connection. */
    private static void refuseOneFrame(int guestPort) throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), guestPort)) {
            s.setSoTimeout((int) WAIT.toMillis());
            OutputStream out = s.getOutputStream();
            out.write(new byte[] {5, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF});
            out.flush();
            InputStream in = s.getInputStream();
            while (in.read() >= 0) {
                // the ProtocolError, then end of stream
            }
        }
    }
}
