package org.lparemu.core.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.lparemu.core.guest.PrrnPolicy;
import org.lparemu.core.guest.VasPolicy;

/** The explorer finds the seed races with no hold anywhere, finds nothing under the fixes, and replays exactly. */
@Timeout(120)
class ExplorerTest {
    private static final Explorer EXPLORER = new Explorer();
    private static final PrrnPolicy DRAIN = PrrnPolicy.DRAIN_BEFORE_SUSPEND;

    @AfterAll
    static void close() {
        EXPLORER.close();
    }

    private static Explorer.Report explore(SimScenario s, VasPolicy v, PrrnPolicy p, String strategy, int runs,
                                           long seed) {
        return EXPLORER.explore(Explorer.Campaign.of(s, v, p, strategy, runs, seed), x -> { });
    }

    @Test
    void preFixMigrationRaceIsFoundShrunkAndReplayed() {
        Explorer.Report rep = explore(SimScenarios.vasOpenVsMigration(), VasPolicy.PRE_FIX, DRAIN, "pos", 40, 7);
        RunResult first = rep.firstFailure();
        assertNotNull(first, "PRE_FIX must fail within 40 POS runs: " + rep.outcomes());
        assertEquals("window-open-at-suspend", first.failureName());
        assertTrue(first.failureDetail().contains("RTAS_NOT_SUSPENDABLE") || first.failureDetail().contains("-9006"),
                first.failureDetail());

        RunResult again = EXPLORER.replaySeed(rep.campaign(), first.seed());
        assertEquals(first.traceHash(), again.traceHash(), "a seed replays its run exactly");
        assertEquals(first.steps(), again.steps());

        RunResult shrunk = rep.shrunk();
        assertEquals("window-open-at-suspend", shrunk.failureName());
        assertTrue(shrunk.log().forced().size() <= 2, "shrunk to " + shrunk.log().forced());
        assertTrue(shrunk.log().forced().size() <= first.log().forced().size());
        RunResult fromSchedule = EXPLORER.replay(SimScenarios.vasOpenVsMigration(), VasPolicy.PRE_FIX, DRAIN,
                shrunk.log().forced());
        assertEquals(shrunk.traceHash(), fromSchedule.traceHash(), "the shrunk schedule replays exactly");
    }

    @ParameterizedTest
    @ValueSource(strings = {"random", "pct", "pos"})
    void everyStrategyFindsTheSimpleRace(String strategy) {
        Explorer.Report rep = explore(SimScenarios.vasOpenVsSuspend(), VasPolicy.PRE_FIX, DRAIN, strategy, 60, 3);
        assertTrue(rep.failures() > 0, strategy + " found nothing: " + rep.outcomes());
        assertEquals(Set.of("window-after-vas-suspend"), rep.failuresByName().keySet());
    }

    @ParameterizedTest
    @EnumSource(value = VasPolicy.class, names = {"UPSTREAM", "V1_PATCH", "HOLD_MUTEX"})
    void fixedPoliciesAreCleanAcrossDistinctInterleavings(VasPolicy policy) {
        for (SimScenario s : List.of(SimScenarios.vasOpenVsSuspend(), SimScenarios.vasOpenVsMigration())) {
            Explorer.Report rep = explore(s, policy, DRAIN, "pos", 120, 11);
            assertTrue(rep.clean(), s.id() + " " + policy + ": " + rep.failuresByName()
                    + (rep.firstFailure() == null ? "" : " " + rep.firstFailure().failureDetail()));
            assertEquals(120, rep.runs());
            // The search reached both sides of the race: opens that beat the SUSPEND and opens refused after it.
            assertTrue(rep.outcomes().keySet().stream().anyMatch(o -> o.contains("open ok")), rep.outcomes().toString());
            assertTrue(rep.outcomes().keySet().stream().anyMatch(o -> o.contains("open EBUSY")),
                    rep.outcomes().toString());
        }
    }

    @Test
    void preFixSecondBranchRacesSuspendMeAndTheFixesDoNot() {
        // A listed window makes SUSPEND leave nr_close_wins above 0, so PRE_FIX's half-open window backs out by
        // itself, but only after SUSPEND returned: its deallocate races ibm,suspend-me.
        SimScenario s = SimScenarios.vasOpenVsMigrationListed();
        Explorer.Report pre = explore(s, VasPolicy.PRE_FIX, DRAIN, "pos", 60, 1);
        assertTrue(pre.failures() > 0, pre.outcomes().toString());
        assertEquals(Set.of("window-open-at-suspend"), pre.failuresByName().keySet());
        for (VasPolicy fixed : List.of(VasPolicy.UPSTREAM, VasPolicy.V1_PATCH, VasPolicy.HOLD_MUTEX)) {
            Explorer.Report r = explore(s, fixed, DRAIN, "pos", 60, 1);
            assertTrue(r.clean(), fixed + ": " + r.failuresByName());
            assertTrue(r.outcomes().keySet().stream().anyMatch(o -> o.contains("open EBUSY")), r.outcomes().toString());
        }
    }

    @Test
    void prrnStalenessIsFoundUnserializedAndNotWhenDrained() {
        Explorer.Report stale = explore(SimScenarios.prrnVsMigration(), VasPolicy.UPSTREAM, PrrnPolicy.UNSERIALIZED,
                "pos", 40, 5);
        assertTrue(stale.failures() > 0, "UNSERIALIZED: " + stale.outcomes());
        assertTrue(stale.firstFailure().failureDetail().contains("ibm,associativity")
                || stale.firstFailure().failureDetail().contains("ibm,dynamic-memory"),
                stale.firstFailure().failureDetail());
        Explorer.Report drained = explore(SimScenarios.prrnVsMigration(), VasPolicy.UPSTREAM, DRAIN, "pos", 40, 5);
        assertTrue(drained.clean(), "DRAIN_BEFORE_SUSPEND: " + drained.failuresByName());
    }

    @Test
    void theSameSeedGivesTheSameTraceInAnotherExplorer() {
        Explorer.Campaign c = Explorer.Campaign.of(SimScenarios.vasOpenVsMigration(), VasPolicy.UPSTREAM, DRAIN,
                "pct", 10, 99);
        Set<String> hashes = new HashSet<>();
        try (Explorer other = new Explorer()) {
            for (int i = 0; i < 10; i++) {
                long seed = Explorer.Campaign.runSeed(99, i);
                String a = EXPLORER.replaySeed(c, seed).traceHash();
                String b = other.replaySeed(c, seed).traceHash();
                assertEquals(a, b, "run " + i);
                hashes.add(a);
            }
        }
        assertTrue(hashes.size() > 1, "ten seeds, one trace: the seed does not reach the schedule");
    }

    @Test
    void shardsSplitACampaignWithoutOverlap() {
        SimScenario s = SimScenarios.vasOpenVsSuspend();
        Explorer.Report whole = explore(s, VasPolicy.PRE_FIX, DRAIN, "random", 30, 17);
        long runs = 0;
        long failures = 0;
        for (int shard = 0; shard < 3; shard++) {
            Explorer.Report part = EXPLORER.explore(new Explorer.Campaign(s, VasPolicy.PRE_FIX, DRAIN, "random", 3, 30, 0,
                    17, shard, 3, false), x -> { });
            runs += part.runs();
            failures += part.failures();
        }
        assertEquals(whole.runs(), runs);
        assertEquals(whole.failures(), failures);
        assertThrows(IllegalArgumentException.class, () -> new Explorer.Campaign(s, VasPolicy.PRE_FIX, DRAIN, "pos", 3,
                1, 0, 1, 3, 3, false));
        assertThrows(IllegalArgumentException.class, () -> Explorer.Campaign.of(s, VasPolicy.PRE_FIX, DRAIN, "chess",
                1, 1));
    }

    @Test
    void aDiagramShowsTheRaceInColumns() {
        Explorer.Report rep = explore(SimScenarios.vasOpenVsMigration(), VasPolicy.PRE_FIX, DRAIN, "pos", 40, 7);
        String d = InterleavingDiagram.render(rep.shrunk());
        String header = d.lines().filter(l -> l.contains("|")).findFirst().orElse("");
        assertTrue(header.contains("opener") && header.contains("hmc"), d);
        assertTrue(d.contains("H_ALLOCATE_VAS_WINDOW"), d);
        assertTrue(d.contains("ibm,suspend-me"), d);
        assertTrue(d.contains("window-open-at-suspend"), d);
    }

    @Test
    void aScheduleFileRoundTripsAndReplays() {
        Explorer.Report rep = explore(SimScenarios.vasOpenVsMigration(), VasPolicy.PRE_FIX, DRAIN, "pos", 40, 7);
        ScheduleFile f = ScheduleFile.of(SimScenarios.vasOpenVsMigration(), VasPolicy.PRE_FIX, DRAIN, rep.shrunk());
        ScheduleFile back = ScheduleFile.parse(f.format());
        assertEquals(f, back);
        RunResult r = EXPLORER.replay(SimScenarios.byId(back.scenario()), back.vasPolicy(), back.prrnPolicy(),
                back.forced());
        assertEquals(back.traceHash(), r.traceHash());
        assertEquals(back.failure(), r.failureName());

        IllegalArgumentException header = assertThrows(IllegalArgumentException.class,
                () -> ScheduleFile.parse("scenario x\n"));
        assertTrue(header.getMessage().contains(ScheduleFile.HEADER), header.getMessage());
        IllegalArgumentException line = assertThrows(IllegalArgumentException.class,
                () -> ScheduleFile.parse(ScheduleFile.HEADER + "\nscenario x\nforce 3\n"));
        assertTrue(line.getMessage().contains("line 3"), line.getMessage());
        IllegalArgumentException policy = assertThrows(IllegalArgumentException.class,
                () -> ScheduleFile.parse(ScheduleFile.HEADER + "\nvas-policy SOMETIMES\n"));
        assertTrue(policy.getMessage().contains("SOMETIMES"), policy.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ScheduleFile.parse(ScheduleFile.HEADER + "\nscenario x\n"));
    }

    @Test
    void unknownScenarioIsNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SimScenarios.byId("nope"));
        assertTrue(e.getMessage().contains("vas-open-vs-migration"), e.getMessage());
    }

    @Test
    void migrationTakesSecondsOfVirtualTimeInMilliseconds() {
        RunResult r = EXPLORER.run(SimScenarios.vasOpenVsMigration(), VasPolicy.UPSTREAM, DRAIN,
                new Strategies.Guided(Map.of()), -1);
        assertEquals(SimScheduler.Verdict.COMPLETED, r.verdict(), r.detail());
        assertFalse(r.failed(), r.failureDetail());
        assertTrue(r.outcome().startsWith("migrated"), r.outcome());
        assertTrue(r.virtualNanos() > 0, "the migration's polls advance virtual time");
        assertNotEquals("", r.traceHash());
    }
}
