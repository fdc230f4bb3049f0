package org.lparemu.bench.report;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One contender's figures: the median over the measured runs of each quantity, and every run's value.
 */
public final class ResultRow {
    public String label;
    /** Column key -> median over the runs. */
    public Map<String, Double> median = new LinkedHashMap<>();
    /** Column key -> the value of each run, in run order. */
    public Map<String, List<Double>> runs = new LinkedHashMap<>();

    public ResultRow() {
    }

    public ResultRow(String label) {
        this.label = label;
    }

    /** Adds one quantity from its per-run values; the median is computed here. */
    public ResultRow put(String key, List<Double> values) {
        runs.put(key, new ArrayList<>(values));
        median.put(key, median(values));
        return this;
    }

    /** Adds one quantity whose figure is computed elsewhere (e.g. JMH's score), with the values behind it. */
    public ResultRow put(String key, double figure, List<Double> values) {
        runs.put(key, new ArrayList<>(values));
        median.put(key, figure);
        return this;
    }

    public double get(String key) {
        Double v = median.get(key);
        if (v == null) {
            throw new IllegalArgumentException("row " + label + " has no " + key);
        }
        return v;
    }

    /** The median (mean of the two middle values for an even count). */
    public static double median(List<Double> values) {
        if (values.isEmpty()) {
            throw new IllegalArgumentException("no values");
        }
        double[] a = values.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(a);
        int n = a.length;
        return n % 2 == 1 ? a[n / 2] : (a[n / 2 - 1] + a[n / 2]) / 2;
    }
}
