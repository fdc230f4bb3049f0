package org.lparemu.demo;

import java.util.ArrayList;
import java.util.List;

/**
 * The few words a matrix cell shows of a verdict: what happened to the migration and the one or two facts that set
 * the cell apart ({@code refused -9006 x5}, {@code migrated, open EBUSY}, {@code migrated, stale: 2 props}). Derived
 * from the verdict text every scenario already builds (parts joined by "; "), so a scenario needs nothing new; the
 * full verdict stays in the cell's details and in {@code --json}.
 */
public final class Verdicts {
    private Verdicts() {
    }

    /** The short form of {@code verdict}; never empty for a non-empty verdict. */
    public static String brief(String verdict) {
        if (verdict == null || verdict.isBlank()) {
            return "no verdict";
        }
        List<String> parts = List.of(verdict.split("; "));
        List<String> out = new ArrayList<>();
        String suspend = parts.stream().filter(p -> p.startsWith("suspend-me ")).findFirst()
                .map(p -> p.substring("suspend-me ".length())).orElse(null);
        for (String p : parts) {
            if (p.equals("migrated") || p.endsWith(" migrated")) {
                out.add("migrated");
                break;
            }
            if (p.startsWith("migration ") || p.endsWith(" migration cancelled") || p.endsWith(" migration failed")) {
                String how = p.substring(p.lastIndexOf(' ') + 1);
                out.add(suspend != null && !suspend.equals("0") && !suspend.startsWith("no ") ? "refused " + suspend
                        : how);
                break;
            }
        }
        for (String p : parts) {
            if (p.startsWith("stale: ")) {
                int n = p.substring("stale: ".length()).split(", ").length;
                out.add("stale: " + n + (n == 1 ? " prop" : " props"));
            } else if (p.startsWith("open ") && !p.equals("open ok")) {
                int colon = p.indexOf(':');
                out.add(colon > 0 ? p.substring(0, colon) : p);
            } else if (p.startsWith("cpu-node-stale: cpu ")) {
                out.add("cpu map stale: " + p.substring("cpu-node-stale: cpu ".length()).split(", ").length);
            } else if (p.startsWith("boot-time map kept")) {
                out.add("boot map kept");
            } else if (p.equals("device tree stale")) {
                out.add("tree stale");
            } else if (p.endsWith("violation(s)") || (p.contains("leak") && !p.equals("no leak"))) {
                out.add(p);
            }
        }
        if (out.isEmpty()) {
            out.add(parts.get(0));
            if (parts.size() > 1 && parts.get(parts.size() - 1).equals("no leak")) {
                out.add("no leak");
            }
        }
        return String.join(", ", out);
    }
}
