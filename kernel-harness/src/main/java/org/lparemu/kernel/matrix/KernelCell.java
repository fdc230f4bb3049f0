package org.lparemu.kernel.matrix;

import java.util.List;
import org.lparemu.demo.Json;
import org.lparemu.demo.Scenario;
import org.lparemu.demo.Scenarios;

/**
 * One cell of the matrix run by Linux's own code: the scenario's row, the kernel's column ("linux-6.1.192"),
 * the outcome expected for that kernel (the Java scenario's expectation for the policy whose algorithm the
 * kernel's vas.c has), and what the run produced.
 *
 * @param scenario         the Java port's scenario (the row)
 * @param column           "linux-6.1.192"
 * @param source           where the kernel came from ("Debian linux-source-6.1", "tree /path")
 * @param equivalentPolicy the Java port's policy this kernel's vas.c implements ("PRE_FIX", "UPSTREAM")
 * @param knownDifference  why this cell may differ from the Java port's cell, or null
 */
public record KernelCell(Scenario scenario, String column, String source, String equivalentPolicy,
                         Scenario.Expectation expected, Scenario.Result result, long millis, String error,
                         String knownDifference) {

    /** True when the run produced exactly the expected outcome. */
    public boolean asExpected() {
        return error == null && result != null && result.verdict().equals(expected.verdict());
    }

    /** The same cell in the demo's type, for a matrix with the C kernels as columns. */
    public Scenarios.Cell toDemoCell() {
        return new Scenarios.Cell(scenario, column, expected, result, null, millis, error);
    }

    /** The cell as one JSON object (the demo's cell fields, plus the kernel's). */
    public String toJson() {
        StringBuilder sb = new StringBuilder("{\"scenario\": ").append(Json.string(scenario.id()))
                .append(", \"title\": ").append(Json.string(scenario.title()))
                .append(", \"policy\": ").append(Json.string(column))
                .append(", \"kernel\": ").append(Json.string(column))
                .append(", \"source\": ").append(Json.string(source))
                .append(", \"equivalentPolicy\": ").append(Json.string(equivalentPolicy))
                .append(", \"asExpected\": ").append(asExpected())
                .append(", \"expected\": ").append(Json.string(expected.verdict()))
                .append(", \"why\": ").append(Json.string(expected.why()))
                .append(", \"verdict\": ").append(result == null ? "null" : Json.string(result.verdict()))
                .append(", \"evidence\": [");
        List<String> ev = result == null ? List.of() : result.evidence();
        for (int i = 0; i < ev.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append(Json.string(ev.get(i)));
        }
        return sb.append("], \"millis\": ").append(millis)
                .append(", \"error\": ").append(error == null ? "null" : Json.string(error))
                .append(", \"knownDifference\": ").append(knownDifference == null ? "null" : Json.string(knownDifference))
                .append('}').toString();
    }
}
