package org.lparemu.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.lparemu.proto.v1.CampaignResult;
import org.lparemu.proto.v1.ExploreReport;

/** {@code lparemu explore}: exit statuses, the failure's files, replay from a seed and a file, shards and merge. */
@Timeout(180)
class ExploreCommandTest {
    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    private static ExploreReport report(String json) throws IOException {
        ExploreReport.Builder b = ExploreReport.newBuilder();
        JsonFormat.parser().merge(json, b);
        return b.build();
    }

    @Test
    void listNamesEveryScenarioAndItsActors() {
        CliRun r = run("explore", "--list");
        assertEquals(0, r.code(), r.err());
        for (String id : List.of("vas-open-vs-suspend", "vas-open-vs-migration", "vas-open-vs-migration-listed",
                "prrn-vs-migration",
                "close-during-migration", "open-migrate-dlpar")) {
            assertTrue(r.out().contains(id), r.out());
        }
        assertTrue(r.out().contains("task opener") && r.out().contains("operator hmc"), r.out());
    }

    @Test
    void aViolationExitsFiveWithItsFilesAndTheScheduleFileReplaysIt(@TempDir Path dir) throws IOException {
        CliRun r = run("explore", "--scenario", "vas-open-vs-migration", "--vas-policy", "pre-fix", "--schedules", "40",
                "--seed", "7", "--trace-dir", dir.toString());
        assertEquals(ExploreCommand.EXIT_VIOLATION, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("window-open-at-suspend"), r.out());
        assertTrue(r.out().contains("first failure: run seed"), r.out());
        assertTrue(r.out().contains("t1: opener"), "the diagram is printed: " + r.out());
        assertTrue(r.out().matches("(?s).*shrunk: \\d+ forced decision\\(s\\) \\[#\\d+ [\\w-]+.*"),
                "the shrunk schedule's decisions are printed: " + r.out());
        Path schedule;
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> all = files.sorted().toList();
            assertEquals(3, all.size(), all.toString());
            schedule = all.stream().filter(p -> p.toString().endsWith(".schedule")).findFirst().orElseThrow();
        }
        assertTrue(Files.readString(dir.resolve(schedule.getFileName().toString().replace(".schedule", ".json")))
                .contains("traceEvents"));
        CliRun replay = run("explore", "--replay", schedule.toString());
        assertEquals(ExploreCommand.EXIT_VIOLATION, replay.code(), replay.out() + replay.err());
        assertTrue(replay.out().contains("(as recorded)"), replay.out());
    }

    @Test
    void aSeedReplaysItsRunWithTheSameTraceHash() throws IOException {
        CliRun r = run("explore", "--scenario", "vas-open-vs-suspend", "--vas-policy", "pre-fix", "--strategy", "pct",
                "--schedules", "40", "--seed", "3", "--json", "--no-shrink");
        assertEquals(ExploreCommand.EXIT_VIOLATION, r.code(), r.err());
        CampaignResult c = report(r.out()).getCampaigns(0);
        assertTrue(c.getFailures() > 0);
        long runSeed = c.getFirstFailure().getRunSeed();
        CliRun replay = run("explore", "--replay", Long.toString(runSeed), "--scenario", "vas-open-vs-suspend",
                "--vas-policy", "pre-fix", "--strategy", "pct");
        assertEquals(ExploreCommand.EXIT_VIOLATION, replay.code(), replay.out() + replay.err());
        assertTrue(replay.out().contains(c.getFirstFailure().getTraceHash()), replay.out());
    }

    @Test
    void aCleanCampaignExitsZeroWithItsOutcomeTable() {
        CliRun r = run("explore", "--scenario", "vas-open-vs-suspend", "--vas-policy", "upstream", "--schedules", "50",
                "--seed", "1");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("50 schedules") && r.out().contains("no violation"), r.out());
        assertTrue(r.out().contains("%  suspend rc 0; open"), r.out());
    }

    @Test
    void shardsMergeIntoTheWholeCampaign(@TempDir Path dir) throws IOException {
        String[] base = {"explore", "--scenario", "vas-open-vs-suspend", "--vas-policy", "pre-fix", "--strategy",
            "random", "--schedules", "30", "--seed", "17", "--json", "--no-shrink"};
        CliRun whole = run(base);
        Path a = dir.resolve("a.json");
        Path b = dir.resolve("b.json");
        Files.writeString(a, run(concat(base, "--shard", "0/2")).out());
        Files.writeString(b, run(concat(base, "--shard", "1/2")).out());
        CliRun merged = run("explore", "merge", a.toString(), b.toString());
        assertEquals(ExploreCommand.EXIT_VIOLATION, merged.code(), merged.err());
        CampaignResult m = report(merged.out()).getCampaigns(0);
        CampaignResult w = report(whole.out()).getCampaigns(0);
        assertEquals(w.getRuns(), m.getRuns());
        assertEquals(w.getFailures(), m.getFailures());
        assertEquals(w.getOutcomesMap(), m.getOutcomesMap());
        assertEquals(List.of(0, 1), m.getShardsMergedList());

        CliRun twice = run("explore", "merge", a.toString(), a.toString());
        assertEquals(2, twice.code());
        assertTrue(twice.err().contains("in two of the reports"), twice.err());
        CliRun half = run("explore", "merge", a.toString());
        assertTrue(half.err().contains("has 1 of 2 shards"), half.err());
        Path junk = dir.resolve("junk.json");
        Files.writeString(junk, "not json");
        assertEquals(2, run("explore", "merge", junk.toString()).code());
    }

    private static String[] concat(String[] a, String... b) {
        return Stream.concat(Stream.of(a), Stream.of(b)).toArray(String[]::new);
    }

    @Test
    void usageErrorsExitTwoAndSayWhy() {
        CliRun strategy = run("explore", "--strategy", "chess", "--schedules", "1");
        assertEquals(2, strategy.code());
        assertTrue(strategy.err().contains("random, pct, pos"), strategy.err());
        CliRun shard = run("explore", "--shard", "3/2", "--scenario", "vas-open-vs-suspend");
        assertEquals(2, shard.code());
        assertTrue(shard.err().contains("I/N"), shard.err());
        CliRun scenario = run("explore", "--scenario", "nope");
        assertEquals(2, scenario.code());
        assertTrue(scenario.err().contains("explore --list"), scenario.err());
        CliRun policy = run("explore", "--scenario", "vas-open-vs-suspend", "--vas-policy", "maybe");
        assertEquals(2, policy.code());
        assertTrue(policy.err().contains("pre-fix"), policy.err());
        CliRun replay = run("explore", "--replay", "not-a-seed-or-file");
        assertEquals(2, replay.code());
        assertTrue(replay.err().contains("neither"), replay.err());
        CliRun seedAlone = run("explore", "--replay", "42");
        assertEquals(2, seedAlone.code());
        assertTrue(seedAlone.err().contains("--scenario"), seedAlone.err());
    }
}
