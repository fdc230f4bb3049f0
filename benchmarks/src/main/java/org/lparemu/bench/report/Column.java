package org.lparemu.bench.report;

/**
 * One measured quantity of a table.
 *
 * @param key      the JSON key (e.g. {@code p50_us})
 * @param header   the Markdown column header (e.g. {@code p50 µs})
 * @param decimals digits after the point in Markdown (JSON keeps full precision)
 */
public record Column(String key, String header, int decimals) {
}
