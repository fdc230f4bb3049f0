package org.lparemu.kernel;

import java.util.List;
import org.lparemu.server.scenario.Scenario;
import org.lparemu.server.scenario.Scenarios;

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
        StringBuilder sb = new StringBuilder("{\"scenario\": ").append(str(scenario.id()))
                .append(", \"title\": ").append(str(scenario.title()))
                .append(", \"policy\": ").append(str(column))
                .append(", \"kernel\": ").append(str(column))
                .append(", \"source\": ").append(str(source))
                .append(", \"equivalentPolicy\": ").append(str(equivalentPolicy))
                .append(", \"asExpected\": ").append(asExpected())
                .append(", \"expected\": ").append(str(expected.verdict()))
                .append(", \"why\": ").append(str(expected.why()))
                .append(", \"verdict\": ").append(result == null ? "null" : str(result.verdict()))
                .append(", \"evidence\": [");
        List<String> ev = result == null ? List.of() : result.evidence();
        for (int i = 0; i < ev.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append(str(ev.get(i)));
        }
        return sb.append("], \"millis\": ").append(millis)
                .append(", \"error\": ").append(error == null ? "null" : str(error))
                .append(", \"knownDifference\": ").append(knownDifference == null ? "null" : str(knownDifference))
                .append('}').toString();
    }

    /** A JSON string literal. */
    static String str(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }
}
