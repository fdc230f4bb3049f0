package org.lparemu.cli;

import java.io.Console;
import java.io.PrintWriter;
import java.util.Locale;

/**
 * One line of progress for long work at a terminal ({@code demo}, the benchmark run, and later exploration): it is
 * redrawn in place ({@code \r}, then the text, then erase-to-end-of-line) and erased before anything else is
 * printed, so the real output is never mixed with it.
 *
 * <p>It shows only when enabled: at a terminal (the JVM has a console, that is standard input and output are
 * both a terminal) and not asked for machine-readable output (the commands pass {@code !json}). Anywhere else, a
 * pipe, a file, CI, {@code --json}, every method does nothing, so output stays byte-for-byte what it was.
 *
 * <p>Not thread-safe: one command's main thread drives it.
 */
public final class ProgressLine {
    /** The terminal's width when COLUMNS does not say. */
    static final int DEFAULT_WIDTH = 100;

    private final PrintWriter out;
    private final boolean enabled;
    private final int width;
    private final long startNanos = System.nanoTime();
    /** The text last shown, and whether it is on the screen now. */
    private String last = "";
    private boolean visible;

    /**
     * @param out     where the line goes (the command's standard output)
     * @param enabled false for none at all
     */
    public ProgressLine(PrintWriter out, boolean enabled) {
        this.out = out;
        this.enabled = enabled;
        this.width = terminalWidth();
    }

    /** A progress line on {@code out} when standard output is a terminal and {@code quiet} is false. */
    public static ProgressLine forTerminal(PrintWriter out, boolean quiet) {
        return new ProgressLine(out, !quiet && isTerminal());
    }

    /**
     * True when the JVM's standard input and output are a terminal (and TERM is not "dumb"). On JDK 17, the release
     * this project targets, {@code System.console()} is null exactly when they are not; JDK 22 made it non-null
     * always and added {@code Console.isTerminal()}, which is asked for when present.
     */
    @SuppressWarnings("SystemConsoleNull") // JDK 17 semantics, with the JDK 22 method asked first when it exists
    public static boolean isTerminal() {
        Console console = System.console();
        if (console == null || "dumb".equals(System.getenv("TERM"))) {
            return false;
        }
        try {
            return (Boolean) Console.class.getMethod("isTerminal").invoke(console);
        } catch (ReflectiveOperationException e) {
            return true; // before JDK 22: a console means a terminal
        }
    }

    public boolean enabled() {
        return enabled;
    }

    /** Shows {@code [done/total] what} with the time since this line was made. */
    public void update(int done, int total, String what) {
        double s = (System.nanoTime() - startNanos) / 1e9;
        show(String.format(Locale.ROOT, "[%d/%d %3.0fs] %s", done, total, s, what));
    }

    /** Shows {@code text} in place of whatever the line showed. */
    public void show(String text) {
        if (!enabled) {
            return;
        }
        String t = text.length() > width - 1 ? text.substring(0, width - 2) + "~" : text;
        out.print("\r" + t + "\u001b[K");
        out.flush();
        last = t;
        visible = true;
    }

    /** Erases the line (before printing anything else). */
    public void clear() {
        if (!visible) {
            return;
        }
        out.print("\r\u001b[K");
        out.flush();
        visible = false;
    }

    /** Draws the last text again (after something else was printed). */
    public void redraw() {
        if (!visible && !last.isEmpty()) {
            show(last);
        }
    }

    private static int terminalWidth() {
        try {
            int cols = Integer.parseInt(System.getenv().getOrDefault("COLUMNS", ""));
            return cols >= 20 ? cols : DEFAULT_WIDTH;
        } catch (NumberFormatException e) {
            return DEFAULT_WIDTH;
        }
    }
}
