package org.lparemu.bench.report;

import java.util.ArrayList;
import java.util.List;

/** Everything one figure (B1, B2, ...) measured: its tables, the ratios and targets, and notes. */
public final class FigureResult {
    public String id;
    public String title;
    /** How it was measured, in one paragraph (goes under the figure's heading). */
    public String method;
    public List<ResultTable> tables = new ArrayList<>();
    public List<Ratio> ratios = new ArrayList<>();
    public List<String> notes = new ArrayList<>();
    public double wallSeconds;
    /** Garbage collections in this JVM while the figure ran, and their total time (pauses, mostly young GCs). */
    public long gcCount;
    public double gcMillis;

    public FigureResult() {
    }

    public FigureResult(String id, String title) {
        this.id = id;
        this.title = title;
    }
}
