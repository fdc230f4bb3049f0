package org.lparemu.bench.report;

/**
 * A ratio between two measured figures, and the target it is held to (if any).
 *
 * @param name       what is compared, e.g. "p50: daemon (socket client) / floor"
 * @param value      the measured ratio (of medians)
 * @param comparator "<=" or ">=" for a target, null for an informational ratio
 * @param target     the target value (ignored when comparator is null)
 * @param met        whether the target is met (null when informational)
 * @param placement  the CPU placement of the figures compared
 * @param unit       "x" for a ratio; a unit (e.g. "MiB") for an absolute figure held to a target
 */
public record Ratio(String name, double value, String comparator, double target, Boolean met, String placement,
                    String unit) {
    public static final String X = "x";

    public static Ratio atMost(String name, double value, double target, String placement) {
        return new Ratio(name, value, "<=", target, value <= target, placement, X);
    }

    public static Ratio atLeast(String name, double value, double target, String placement) {
        return new Ratio(name, value, ">=", target, value >= target, placement, X);
    }

    public static Ratio info(String name, double value, String placement) {
        return new Ratio(name, value, null, 0, null, placement, X);
    }

    /** An absolute figure (not a ratio) held to an upper bound, e.g. heap after GC in MiB. */
    public static Ratio absoluteAtMost(String name, double value, double target, String unit, String placement) {
        return new Ratio(name, value, "<=", target, value <= target, placement, unit);
    }

    /** An absolute figure held to a lower bound, e.g. hcalls per second. */
    public static Ratio absoluteAtLeast(String name, double value, double target, String unit, String placement) {
        return new Ratio(name, value, ">=", target, value >= target, placement, unit);
    }

    /** The unit as printed after a number: "x" directly, others after a space. */
    public String suffix() {
        return unit == null || X.equals(unit) ? X : " " + unit;
    }

    /** How far from the target, as a factor (1.0 = exactly on it); 0 for informational ratios. */
    public double gap() {
        if (comparator == null) {
            return 0;
        }
        return "<=".equals(comparator) ? value / target : target / value;
    }
}
