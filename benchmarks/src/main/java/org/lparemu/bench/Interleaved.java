package org.lparemu.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.lparemu.bench.report.ResultRow;

/**
 * Measures contenders side by side: one warm-up pass over all of them (JIT), then {@code runs} rounds in which
 * every contender is measured once, the order rotating each round so no contender always follows the same
 * one. Each quantity's figure is the median over the rounds.
 */
public final class Interleaved {
    private Interleaved() {
    }

    /** A thing being measured; {@link #measure} returns named quantities (e.g. p50_us, calls_per_s). */
    public interface Contender extends AutoCloseable {
        String label();

        Map<String, Double> measure(boolean warmup) throws Exception;

        /** Releases what the contender holds; failures are wrapped, so try-with-resources needs no catch. */
        @Override
        default void close() {
        }
    }

    public static List<ResultRow> run(String figure, List<? extends Contender> contenders, int runs, BenchContext ctx)
            throws Exception {
        for (Contender c : contenders) {
            ctx.log("%s warm-up: %s", figure, c.label());
            c.measure(true);
        }
        Map<Contender, Map<String, List<Double>>> values = new LinkedHashMap<>();
        contenders.forEach(c -> values.put(c, new LinkedHashMap<>()));
        for (int run = 0; run < runs; run++) {
            for (int i = 0; i < contenders.size(); i++) {
                Contender c = contenders.get((i + run) % contenders.size());
                Map<String, Double> m = c.measure(false);
                ctx.log("%s run %d/%d: %-45s %s", figure, run + 1, runs, c.label(), m);
                m.forEach((k, v) -> values.get(c).computeIfAbsent(k, x -> new ArrayList<>()).add(v));
            }
        }
        List<ResultRow> rows = new ArrayList<>();
        for (Contender c : contenders) {
            ResultRow row = new ResultRow(c.label());
            values.get(c).forEach(row::put);
            rows.add(row);
        }
        return rows;
    }
}
