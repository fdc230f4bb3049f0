package org.lparemu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lparemu.client.ControlClient;
import org.lparemu.client.GuestConnection;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.port.HcallResult;
import org.lparemu.core.port.PortException;
import org.lparemu.proto.v1.AwaitHold;
import org.lparemu.proto.v1.ControlRequest;
import org.lparemu.proto.v1.ControlResponse;
import org.lparemu.proto.v1.ErrorCode;
import org.lparemu.proto.v1.ProtocolError;

/**
 * The runnable jar as users start it: {@code serve} with the embedded default on ephemeral ports, a control
 * client and a guest against it, then SIGTERM: the daemon must exit 0 within a few seconds.
 */
class ServeProcessTest {
    static Path jar() {
        Path p = Path.of("..", "cli", "target", "lparemu-cli-0.1.0-SNAPSHOT-all.jar");
        assertTrue(Files.exists(p), "the shaded jar is built in the cli module's package phase: " + p.toAbsolutePath());
        return p;
    }

    static Process start(String... extra) throws Exception {
        return start(ProcessBuilder.Redirect.DISCARD, extra);
    }

    static Process start(ProcessBuilder.Redirect stderr, String... extra) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar().toString(),
                "serve", "--guest-port", "0", "--control-port", "0"));
        cmd.addAll(List.of(extra));
        return new ProcessBuilder(cmd).redirectError(stderr).start();
    }

    /** Reads the "lparemu listening" line: {guest port, control port}. */
    static int[] ports(Process p) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        Matcher m = Pattern.compile("lparemu listening guest=127\\.0\\.0\\.1:(\\d+) control=127\\.0\\.0\\.1:(\\d+)")
                .matcher(String.valueOf(line));
        assertTrue(m.matches(), "first stdout line: " + line);
        return new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))};
    }

    /**
     * SIGTERM with work in flight: two calls held by a fault, a vCPU parked in H_JOIN, a control client
     * waiting on a hold. The guest sees ProtocolError SHUTTING_DOWN and its calls fail; the waiting control
     * request is answered SHUTTING_DOWN; the log is flushed to its last line; the process exits 0 within
     * the bound of the wait. The control port takes its token from a file.
     */
    @Test
    void sigtermWithHeldAndParkedCallsFailsThemAndExitsZero(@TempDir Path dir) throws Exception {
        Path tokenFile = Files.writeString(dir.resolve("token"), "t0ken\n");
        Path log = dir.resolve("stderr.log");
        Process p = start(ProcessBuilder.Redirect.to(log.toFile()), "--control-token-file", tokenFile.toString());
        try {
            int[] ports = ports(p);
            ControlClient c = ControlClient.connect("127.0.0.1", ports[1], "t0ken", Duration.ofSeconds(10));
            ControlClient waiting = ControlClient.connect("127.0.0.1", ports[1], "t0ken", Duration.ofSeconds(10));
            GuestConnection g = GuestConnection.connect("127.0.0.1", ports[0], "lpar1");
            try {
                c.addFault(LimitsTest.holdRule("gate"));
                CompletableFuture<HcallResult> held1 = g.hcallAsync(0, LimitsTest.NOP, new long[0], null);
                CompletableFuture<HcallResult> held2 = g.hcallAsync(1, LimitsTest.NOP, new long[0], null);
                CompletableFuture<HcallResult> joined = g.hcallAsync(2, Hcall.H_JOIN, new long[0], null, true);
                assertEquals(2, c.awaitHold("gate", 2, Duration.ofSeconds(10)).size());
                RawConn.await("vCPU 2 parked in H_JOIN", Duration.ofSeconds(10),
                        () -> c.getState("lpar1").getJoinedVcpusCount() == 1);
                CompletableFuture<ControlResponse> wait = waiting.call(ControlRequest.newBuilder().setAwaitHold(
                        AwaitHold.newBuilder().setLatch("never").setTimeoutMs(60_000)));

                long t0 = System.nanoTime();
                p.destroy(); // SIGTERM
                assertTrue(p.waitFor(10, TimeUnit.SECONDS), "daemon did not exit within 10 s of SIGTERM");
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                assertEquals(0, p.exitValue());
                // How long the exit took is a figure, not a verdict: the bound above only says that it exits.
                System.out.println("ServeProcessTest: exit " + ms + " ms after SIGTERM");

                for (CompletableFuture<HcallResult> f : List.of(held1, held2, joined)) {
                    ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
                    assertTrue(e.getCause() instanceof PortException, e.toString());
                    assertTrue(e.getCause().getMessage().contains("SHUTTING_DOWN"), e.getCause().getMessage());
                }
                assertEquals(ProtocolError.Code.SHUTTING_DOWN, g.closeCode());
                // The waiting request is either answered SHUTTING_DOWN, or the connection-level SHUTTING_DOWN the
                // daemon sends before closing arrives first and fails it with that reason: both say why.
                try {
                    ControlResponse r = wait.get(10, TimeUnit.SECONDS);
                    assertEquals(ErrorCode.SHUTTING_DOWN, r.getError().getCode(), r.toString());
                } catch (ExecutionException e) {
                    assertTrue(e.getCause() instanceof PortException
                            && e.getCause().getMessage().contains("SHUTTING_DOWN"), e.toString());
                }
            } finally {
                g.close();
                c.close();
                waiting.close();
            }
            String stderr = Files.readString(log, StandardCharsets.UTF_8);
            assertTrue(stderr.contains("signal received, shutting down"), stderr);
            assertTrue(stderr.lines().anyMatch(l -> l.contains("lparemu stopped") && l.contains("connection(s) closed")),
                    "the last log line made it out: " + stderr);
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void anEmptyControlTokenFileIsAUsageError(@TempDir Path dir) throws Exception {
        Path tokenFile = Files.writeString(dir.resolve("token"), "\n");
        Process p = start("--control-token-file", tokenFile.toString());
        try {
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            assertEquals(2, p.exitValue());
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void serveStartsWithTheEmbeddedDefaultAndExitsZeroOnSigterm() throws Exception {
        Process p = start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String line = out.readLine();
            Matcher m = Pattern.compile("lparemu listening guest=127\\.0\\.0\\.1:(\\d+) control=127\\.0\\.0\\.1:(\\d+)")
                    .matcher(String.valueOf(line));
            assertTrue(m.matches(), "first stdout line: " + line);
            int guestPort = Integer.parseInt(m.group(1));
            int controlPort = Integer.parseInt(m.group(2));
            try (ControlClient c = ControlClient.connect("127.0.0.1", controlPort)) {
                assertEquals("lpar1", c.listPartitions().get(0).getName());
            }
            try (GuestConnection g = GuestConnection.connect("127.0.0.1", guestPort, "lpar1")) {
                assertEquals(HStatus.H_FUNCTION, g.hcall(0, 0x4444L).status());
                assertEquals("source", g.bootInfo().system());
            }
            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(10, TimeUnit.SECONDS), "daemon did not exit within 10 s of SIGTERM");
            assertEquals(0, p.exitValue());
        } finally {
            p.destroyForcibly();
        }
    }
}
