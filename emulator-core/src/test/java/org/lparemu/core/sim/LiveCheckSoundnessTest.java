package org.lparemu.core.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lparemu.core.check.InvariantChecker;
import org.lparemu.core.check.InvariantReport;
import org.lparemu.core.guest.NxGzipDevice;
import org.lparemu.core.guest.PrrnPolicy;
import org.lparemu.core.guest.VasPolicy;

/**
 * {@code ctl check} while guest tasks open and close windows: under every schedule the explorer tries, the check
 * reports no violation (a report taken inside a VAS path skips the guest checks and says so), and it still compares
 * when the guest is quiescent. Before the guest reported its busy tasks, a check between an open's credit increment
 * and its mutex reported credits-used-mismatch.
 */
@Timeout(120)
class LiveCheckSoundnessTest {
    private static final class Checks {
        final List<InvariantReport> reports = new ArrayList<>();
    }

    private static SimScenario checkDuringOpens() {
        return SimScenario.named("check-during-opens")
                .guestTask("opener", w -> w.nx().open(false, 0))
                .guestTask("cycler", w -> {
                    NxGzipDevice.OpenResult r = w.nx().open(false, 0);
                    if (r.ok()) {
                        w.nx().close(r.handle());
                    }
                })
                .operator("ctl-check", w -> {
                    for (int i = 0; i < 3; i++) {
                        InvariantReport rep = w.await(InvariantChecker.check(w.platform(), SimWorld.PARTITION, 5_000));
                        w.local(Checks.class, Checks::new).reports.add(rep);
                    }
                })
                .oracle(new SimOracle() {
                    @Override
                    public String name() {
                        return "check-false-positive";
                    }

                    @Override
                    public boolean live() {
                        return false;
                    }

                    @Override
                    public List<Finding> check(SimWorld w) {
                        List<Finding> out = new ArrayList<>();
                        for (InvariantReport r : w.local(Checks.class, Checks::new).reports) {
                            r.violations().forEach(v -> out.add(new Finding(name(), v.location(), v.name() + ": "
                                    + v.detail())));
                        }
                        return out;
                    }
                })
                .outcome(w -> {
                    List<InvariantReport> rs = w.local(Checks.class, Checks::new).reports;
                    long compared = rs.stream().filter(r -> r.guestReportsCompared() == 1).count();
                    return compared + " compared, " + (rs.size() - compared) + " busy";
                })
                .build();
    }

    @Test
    void aCheckDuringOpensNeverReportsWhatTheKernelPassesThrough() {
        try (Explorer explorer = new Explorer()) {
            Explorer.Report rep = explorer.explore(Explorer.Campaign.of(checkDuringOpens(), VasPolicy.UPSTREAM,
                    PrrnPolicy.DRAIN_BEFORE_SUSPEND, "random", 150, 23), x -> { });
            assertTrue(rep.clean(), rep.failuresByName() + " " + (rep.firstFailure() == null ? ""
                    : rep.firstFailure().failureDetail()));
            assertEquals(150, rep.runs());
            assertTrue(rep.outcomes().keySet().stream().anyMatch(o -> !o.endsWith(" 0 busy")),
                    "some checks met a busy guest: " + rep.outcomes());
            assertTrue(rep.outcomes().keySet().stream().anyMatch(o -> !o.startsWith("0 compared")),
                    "some checks compared: " + rep.outcomes());
        }
    }
}
