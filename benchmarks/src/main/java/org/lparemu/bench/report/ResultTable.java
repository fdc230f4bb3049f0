package org.lparemu.bench.report;

import java.util.ArrayList;
import java.util.List;

/** A table of one figure: contenders (rows) by quantities (columns), measured under one CPU placement. */
public final class ResultTable {
    public String name;
    /** Where the JVM ran, e.g. "2 vCPUs, unpinned" or "1 vCPU (taskset -c 0)". */
    public String placement;
    /** Header of the first (label) column in Markdown. */
    public String rowHeader = "contender";
    public List<Column> columns = new ArrayList<>();
    public List<ResultRow> rows = new ArrayList<>();

    public ResultTable() {
    }

    public ResultTable(String name, String placement, List<Column> columns) {
        this.name = name;
        this.placement = placement;
        this.columns = new ArrayList<>(columns);
    }

    public ResultRow row(String label) {
        for (ResultRow r : rows) {
            if (r.label.equals(label)) {
                return r;
            }
        }
        throw new IllegalArgumentException("table " + name + " has no row " + label);
    }
}
