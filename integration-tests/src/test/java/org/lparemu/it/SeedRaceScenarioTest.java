package org.lparemu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.lparemu.demo.Scenario;
import org.lparemu.demo.Scenarios;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every scenario under every policy of its axis, over real sockets: the outcome the algorithms produce must be
 * the stated one (Scenario.expected), with its kernel history.
 */
class SeedRaceScenarioTest {
    static Stream<Arguments> cells() {
        List<Arguments> out = new ArrayList<>();
        for (Scenario s : Scenarios.all()) {
            for (String p : s.axis().policies) {
                out.add(Arguments.of(Named.of(s.id(), s), Named.of(p, p)));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} under {1}")
    @MethodSource("cells")
    void scenarioProducesItsStatedOutcome(Scenario scenario, String policy) {
        Scenarios.Cell cell = Scenarios.run(scenario, policy, Path.of("target", "scenario-traces"));
        assertNull(cell.error(), "the run failed: " + cell.error());
        assertEquals(cell.expected().verdict(), cell.result().verdict(),
                "evidence: " + String.join("\n  ", cell.result().evidence()) + "\ntrace: " + cell.trace());
    }
}
