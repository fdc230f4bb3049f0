package org.lparemu.bench.report;

/**
 * One measured quantity of a table.
 *
 * @param key        the JSON key (e.g. {@code p50_us})
 * @param header     the Markdown column header (e.g. {@code p50 µs})
 * @param decimals   digits after the point in Markdown (JSON keeps full precision)
 * @param mayBeZero  true for counts that can legitimately be zero (e.g. reproductions found by a stress run)
 */
public record Column(String key, String header, int decimals, boolean mayBeZero) {

    public Column(String key, String header, int decimals) {
        this(key, header, decimals, false);
    }
}
