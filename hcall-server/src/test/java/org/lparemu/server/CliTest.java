package org.lparemu.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.lparemu.proto.v1.PartitionList;
import org.lparemu.server.cli.LparemuCli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The CLI against a real daemon: exit codes, human output and --json. */
class CliTest {
    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        CommandLine cl = LparemuCli.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void ctlPartitionsJsonListsTheDefaultPartition() throws Exception {
        try (EmbeddedDaemon d = EmbeddedDaemon.start()) {
            Run r = run("ctl", "--port", Integer.toString(d.controlPort()), "partitions", "--json");
            assertEquals(0, r.code(), r.err());
            PartitionList.Builder b = PartitionList.newBuilder();
            JsonFormat.parser().merge(r.out(), org.lparemu.proto.v1.ControlResponse.newBuilder());
            var resp = org.lparemu.proto.v1.ControlResponse.newBuilder();
            JsonFormat.parser().merge(r.out(), resp);
            assertEquals("lpar1", resp.getPartitions().getPartitions(0).getName());
            assertEquals("source", resp.getPartitions().getPartitions(0).getSystem());
            assertEquals(0, b.getPartitionsCount());

            Run human = run("ctl", "--port", Integer.toString(d.controlPort()), "partitions");
            assertTrue(human.out().contains("lpar1") && human.out().contains("source"), human.out());
        }
    }

    @Test
    void ctlCreateStateDeleteAndTypedErrors() {
        try (EmbeddedDaemon d = EmbeddedDaemon.start()) {
            String port = Integer.toString(d.controlPort());
            assertEquals(0, run("ctl", "--port", port, "create", "lpar9", "--vcpus", "2", "--cores", "3").code());
            Run state = run("ctl", "--port", port, "state", "lpar9");
            assertEquals(0, state.code());
            assertTrue(state.out().contains("lpar9 on source: 2 vcpus, 3 dedicated cores"), state.out());
            Run dup = run("ctl", "--port", port, "create", "lpar9");
            assertEquals(1, dup.code());
            assertTrue(dup.err().contains("DUPLICATE_NAME"), dup.err());
            assertEquals(0, run("ctl", "--port", port, "delete", "lpar9").code());
            Run gone = run("ctl", "--port", port, "state", "lpar9");
            assertEquals(1, gone.code());
            assertTrue(gone.err().contains("UNKNOWN_PARTITION"), gone.err());
        }
    }

    @Test
    void ctlWithNoDaemonExitsThreeWithAClearMessage() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Run r = run("ctl", "--port", Integer.toString(port), "partitions");
        assertEquals(3, r.code());
        assertTrue(r.err().contains("cannot connect"), r.err());
    }

    @Test
    void helpListsEverySubcommand() {
        Run r = run("--help");
        assertEquals(0, r.code());
        for (String sub : new String[] {"serve", "ctl"}) {
            assertTrue(r.out().contains(sub), r.out());
        }
        Run ctl = run("ctl", "--help");
        for (String sub : new String[] {"partitions", "state", "create", "delete", "reset", "trace", "await-event"}) {
            assertTrue(ctl.out().contains(sub), sub + " in " + ctl.out());
        }
    }

    @Test
    void configFileIsParsedAndBadOnesAreNamed(@TempDir Path dir) throws Exception {
        Path good = dir.resolve("good.textproto");
        Files.writeString(good, """
                systems { name: "alpha" credits_per_core: 10 }
                systems { name: "beta" }
                partitions { name: "p1" vcpus: 2 cores: 4 system: "beta" }
                hypervisor { suspend_refusal_status: -9004 blackout_ms: 5 }
                limits { max_partitions: 7 }
                """);
        var cfg = ConfigLoader.load(good);
        assertEquals(2, cfg.systems().size());
        assertEquals(10, cfg.systems().get(0).creditsPerCore());
        assertEquals(20, cfg.systems().get(1).creditsPerCore());
        assertEquals("p1", cfg.partitions().get(0).name());
        assertEquals(-9004, cfg.hypervisor().suspendRefusalStatus());
        assertEquals(5, cfg.hypervisor().blackoutMs());
        assertEquals(7, cfg.limits().maxPartitions());
        assertEquals(1 << 20, cfg.limits().maxFrameBytes());

        Path bad = dir.resolve("bad.textproto");
        Files.writeString(bad, "systems { nme: \"x\" }\n");
        java.io.IOException e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                () -> ConfigLoader.load(bad));
        assertTrue(e.getMessage().contains("bad.textproto") && e.getMessage().contains("nme"), e.getMessage());

        Path example = Path.of("..", "docs", "example-config.textproto");
        if (Files.exists(example)) {
            assertEquals("source", ConfigLoader.load(example).systems().get(0).name());
        }
    }
}
