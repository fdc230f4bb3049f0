package org.lparemu.bench.figures;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.lparemu.bench.BenchContext;

/**
 * Fray 0.9.2's figures from the same benchmark run, as written by {@code fray-bench/run} (module fray-bench, profile
 * -Pfray): Fray must run in its own JVM (an instrumented JDK 25 with Fray's agent), so ./benchmarks/run runs it first
 * and the figures read its file. The schema is documented in fray-bench's {@code FrayBench}; in short:
 * {@code detection[]} (scenario, strategy, PRE_FIX: per-seed iterations to the first failure, median / min / max,
 * found, replay_attempted / replay_reproduced), {@code throughput[]} (scenario, strategy, UPSTREAM: per_s,
 * iterations, failures, verdict clean / failed / livelock), {@code stress[]} and {@code limits[]}.
 *
 * <p>The file is {@code benchmarks/target/fray-results.json} under the working directory, or the system property
 * {@value #PROPERTY}. Smoke runs never read it (Fray's JDK takes a minute to link and its campaigns minutes to run).
 */
final class FrayResults {
    static final String PROPERTY = "lparemu.fray.results";
    static final String DEFAULT = "benchmarks/target/fray-results.json";

    final JsonObject json;

    private FrayResults(JsonObject json) {
        this.json = json;
    }

    /** The results of this run, or null with the reason added to {@code notes}. */
    static FrayResults load(BenchContext ctx, List<String> notes) {
        if (!ctx.sizes().full()) {
            notes.add("Fray rows: skipped in smoke mode (Fray's instrumented JDK takes a minute to link and its campaigns "
                    + "minutes to run); ./benchmarks/run measures them.");
            return null;
        }
        Path file = Path.of(System.getProperty(PROPERTY, DEFAULT));
        if (!Files.isRegularFile(file)) {
            notes.add("Fray rows: not measured in this run (no " + file + "; ./benchmarks/run writes it with "
                    + "fray-bench/run, which needs a JDK 25: see its header).");
            return null;
        }
        try {
            JsonObject o = JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8)).getAsJsonObject();
            if (o.get("schema").getAsInt() != 1) {
                notes.add("Fray rows: " + file + " has schema " + o.get("schema") + ", not 1; ignored.");
                return null;
            }
            ctx.log("Fray results from %s (%s, quick=%s)", file, o.get("java").getAsString(), o.get("quick"));
            return new FrayResults(o);
        } catch (IOException | RuntimeException e) {
            notes.add("Fray rows: " + file + " could not be read (" + e + ").");
            return null;
        }
    }

    /** The detection entry for (scenario, strategy), or null. */
    JsonObject detection(String scenario, String strategy) {
        return find("detection", scenario, strategy);
    }

    /** The throughput entry for (scenario, strategy), or null. */
    JsonObject throughput(String scenario, String strategy) {
        return find("throughput", scenario, strategy);
    }

    List<String> limits() {
        List<String> out = new ArrayList<>();
        for (JsonElement e : json.getAsJsonArray("limits")) {
            out.add(e.getAsString());
        }
        return out;
    }

    String javaVersion() {
        return json.get("java").getAsString();
    }

    static List<Double> doubles(JsonArray a) {
        List<Double> out = new ArrayList<>();
        for (JsonElement e : a) {
            out.add(e.getAsDouble());
        }
        return out;
    }

    private JsonObject find(String section, String scenario, String strategy) {
        for (JsonElement e : json.getAsJsonArray(section)) {
            JsonObject o = e.getAsJsonObject();
            if (o.get("scenario").getAsString().equals(scenario) && o.get("strategy").getAsString().equals(strategy)) {
                return o;
            }
        }
        return null;
    }
}
