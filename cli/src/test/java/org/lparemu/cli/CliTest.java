package org.lparemu.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lparemu.proto.v1.ControlResponse;
import org.lparemu.proto.v1.PartitionList;
import org.lparemu.server.EmbeddedDaemon;
import org.lparemu.wire.ConfigLoader;

/** The CLI against a real daemon: exit codes, human output and --json. */
class CliTest {
    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    @Test
    void ctlPartitionsJsonListsTheDefaultPartition() throws Exception {
        try (EmbeddedDaemon d = EmbeddedDaemon.start()) {
            CliRun r = run("ctl", "--port", Integer.toString(d.controlPort()), "partitions", "--json");
            assertEquals(0, r.code(), r.err());
            PartitionList.Builder b = PartitionList.newBuilder();
            JsonFormat.parser().merge(r.out(), ControlResponse.newBuilder());
            var resp = ControlResponse.newBuilder();
            JsonFormat.parser().merge(r.out(), resp);
            assertEquals("lpar1", resp.getPartitions().getPartitions(0).getName());
            assertEquals("source", resp.getPartitions().getPartitions(0).getSystem());
            assertEquals(0, b.getPartitionsCount());

            CliRun human = run("ctl", "--port", Integer.toString(d.controlPort()), "partitions");
            assertTrue(human.out().contains("lpar1") && human.out().contains("source"), human.out());
        }
    }

    @Test
    void ctlCreateStateDeleteAndTypedErrors() {
        try (EmbeddedDaemon d = EmbeddedDaemon.start()) {
            String port = Integer.toString(d.controlPort());
            CliRun ragged = run("ctl", "--port", port, "create", "lpar9", "--vcpus", "2", "--cores", "3");
            assertEquals(1, ragged.code());
            assertTrue(ragged.err().contains("BAD_SPEC") && ragged.err().contains("threads per core"), ragged.err());
            assertEquals(0, run("ctl", "--port", port, "create", "lpar9", "--vcpus", "6", "--cores", "3").code());
            CliRun state = run("ctl", "--port", port, "state", "lpar9");
            assertEquals(0, state.code());
            assertTrue(state.out().contains("lpar9 on source: 6 vcpus, 3 dedicated cores"), state.out());
            assertTrue(state.out().contains("vcpus: 0 1 2 3 4 5\n"), state.out());
            CliRun dup = run("ctl", "--port", port, "create", "lpar9");
            assertEquals(1, dup.code());
            assertTrue(dup.err().contains("DUPLICATE_NAME"), dup.err());
            assertEquals(0, run("ctl", "--port", port, "delete", "lpar9").code());
            CliRun gone = run("ctl", "--port", port, "state", "lpar9");
            assertEquals(1, gone.code());
            assertTrue(gone.err().contains("UNKNOWN_PARTITION"), gone.err());
        }
    }

    @Test
    void ctlOperatorFaultHoldAndCheckCommands() {
        try (EmbeddedDaemon d = EmbeddedDaemon.start()) {
            String port = Integer.toString(d.controlPort());
            CliRun add = run("ctl", "--port", port, "fault", "add", "--hcall", "H_ALLOCATE_VAS_WINDOW", "--return", "H_BUSY",
                    "--max", "2");
            assertEquals(0, add.code(), add.err());
            assertTrue(add.out().contains("rule 1 added"), add.out());
            CliRun list = run("ctl", "--port", port, "fault", "list");
            assertTrue(list.out().contains("rule 1: matched 0, fired 0") && list.out().contains("opcode: 904"), list.out());
            assertEquals(2, run("ctl", "--port", port, "fault", "add", "--hcall", "H_JOIN").code(), "no action");
            assertEquals(0, run("ctl", "--port", port, "fault", "rm", "1").code());
            CliRun rmAgain = run("ctl", "--port", port, "fault", "rm", "1");
            assertEquals(1, rmAgain.code());
            assertTrue(rmAgain.err().contains("UNKNOWN_RULE"), rmAgain.err());
            assertEquals(0, run("ctl", "--port", port, "fault", "add", "--rtas", "ibm,suspend-me", "--hold", "s").code());
            assertTrue(run("ctl", "--port", port, "fault", "clear").out().contains("1 rule(s) removed"));

            CliRun dlpar = run("ctl", "--port", port, "dlpar", "lpar1", "add", "1");
            assertTrue(dlpar.out().contains("now has 3 cores, default credit target 60"), dlpar.out() + dlpar.err());
            assertTrue(run("ctl", "--port", port, "qos", "lpar1", "3").out().contains("QoS credits 3 pushed"));
            CliRun prrn = run("ctl", "--port", port, "prrn", "lpar1", "--set",
                    "/cpus/PowerPC,POWER10@0:ibm,associativity=<4 1 1 1 1>");
            assertTrue(prrn.out().contains("PRRN scope 1 pushed"), prrn.out() + prrn.err());
            CliRun check = run("ctl", "--port", port, "check", "lpar1");
            assertEquals(0, check.code(), check.out() + check.err());
            assertTrue(check.out().contains("0 violation(s); 1 partition(s) checked, 0 against a guest report"),
                    check.out());

            CliRun hold = run("ctl", "--port", port, "hold", "await", "nothing", "--timeout-ms", "100");
            assertEquals(1, hold.code());
            assertTrue(hold.err().contains("TIMEOUT"), hold.err());
            CliRun migrate = run("ctl", "--port", port, "migrate", "lpar1");
            assertTrue(migrate.out().contains("migration of lpar1 to destination started"), migrate.out());
            CliRun again = run("ctl", "--port", port, "migrate", "lpar1");
            assertEquals(1, again.code());
            assertTrue(again.err().contains("INVALID_STATE"), again.err());
            CliRun wait = run("ctl", "--port", port, "await-migration", "lpar1", "--timeout-ms", "100");
            assertEquals(1, wait.code(), "no guest suspends it, so the wait times out");
            assertTrue(wait.err().contains("TIMEOUT"), wait.err());
        }
    }

    @Test
    void demoRunsOneCellAndPrintsJson(@TempDir Path dir) {
        CliRun r = run("demo", "--scenario", "vas-open-vs-migration", "--policy", "upstream", "--json", "--trace-dir",
                dir.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("\"policy\": \"upstream\"") && r.out().contains("\"asExpected\": true"), r.out());
        assertTrue(Files.exists(dir.resolve("vas-open-vs-migration-upstream.json")));
        CliRun bad = run("demo", "--scenario", "nosuch");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("no scenario"), bad.err());
    }

    @Test
    void topologyErasAreSelectableAndAMistypedOneIsNamed(@TempDir Path dir) {
        CliRun r = run("demo", "--scenario", "topology-migration", "--policy", "scope-extended", "--json",
                "--no-kernels", "--trace-dir", dir.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("cpu-node-stale: cpu 0, 1, 2, 3") && r.out().contains("\"asExpected\": true"),
                r.out());
        CliRun bad = run("guest", "--topology-policy", "v6-0", "--port", "1");
        assertEquals(2, bad.code(), bad.out() + bad.err());
        assertTrue(bad.err().contains("unknown topology policy 'v6-0'") && bad.err().contains("scope-extended"),
                bad.err());
    }

    @Test
    void ctlWithNoDaemonExitsThreeWithAClearMessage() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        CliRun r = run("ctl", "--port", Integer.toString(port), "partitions");
        assertEquals(3, r.code());
        assertTrue(r.err().contains("cannot connect"), r.err());
    }

    @Test
    void helpListsEverySubcommand() {
        CliRun r = run("--help");
        assertEquals(0, r.code());
        for (String sub : new String[] {"serve", "ctl"}) {
            assertTrue(r.out().contains(sub), r.out());
        }
        CliRun ctl = run("ctl", "--help");
        for (String sub : new String[] {"partitions", "state", "create", "delete", "reset", "trace", "await-event",
                "migrate", "await-migration", "prrn", "dlpar", "qos", "fault", "hold", "check"}) {
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
        IOException e = Assertions.assertThrows(IOException.class,
                () -> ConfigLoader.load(bad));
        assertTrue(e.getMessage().contains("bad.textproto") && e.getMessage().contains("nme"), e.getMessage());

        Path example = Path.of("..", "docs", "example-config.textproto");
        if (Files.exists(example)) {
            assertEquals("source", ConfigLoader.load(example).systems().get(0).name());
        }
    }
}
