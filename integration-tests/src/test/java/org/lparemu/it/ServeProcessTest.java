package org.lparemu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.lparemu.client.ControlClient;
import org.lparemu.client.GuestConnection;
import org.lparemu.core.papr.HStatus;
import org.junit.jupiter.api.Test;

/**
 * The runnable jar as users start it: {@code serve} with the embedded default on ephemeral ports, a control
 * client and a guest against it, then SIGTERM: the daemon must exit 0 within a few seconds.
 */
class ServeProcessTest {
    static Path jar() {
        Path p = Path.of("..", "hcall-server", "target", "hcall-server-0.1.0-SNAPSHOT-all.jar");
        assertTrue(Files.exists(p), "the shaded jar is built in hcall-server's package phase: " + p.toAbsolutePath());
        return p;
    }

    static Process start(String... extra) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar().toString(),
                "serve", "--guest-port", "0", "--control-port", "0"));
        cmd.addAll(List.of(extra));
        return new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
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
