package org.lparemu.bench;

import org.lparemu.bench.report.FigureResult;

/** One figure of issue 6 (B1 ... B6, or the JMH core cost): sets up its contenders, measures, tears down. */
public interface Figure {
    /** Short id, e.g. "B1"; {@code --only} selects by it. */
    String id();

    String title();

    /** True for figures that only run in full mode (e.g. JMH, which forks a JVM and takes seconds per benchmark). */
    default boolean fullOnly() {
        return false;
    }

    FigureResult run(BenchContext ctx) throws Exception;
}
