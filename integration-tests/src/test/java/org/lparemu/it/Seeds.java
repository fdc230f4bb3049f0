package org.lparemu.it;

/**
 * Seeds of the seeded tests (soak, hostile-input fuzz): pinned in CI so that every run of {@code mvn verify} draws
 * the same action sequence; fresh under {@code -Pstress} (system property {@code lparemu.stress=true}), printed by
 * the test so that a failure replays from its seed alone; an explicit {@code -D<property>=N} always wins.
 */
final class Seeds {
    /** Set by the {@code stress} Maven profile. */
    static final String STRESS = "lparemu.stress";

    private Seeds() {
    }

    /** The seed: {@code -D<property>}, else a fresh one under -Pstress, else {@code pinned}. */
    static long of(String property, long pinned) {
        Long given = Long.getLong(property);
        if (given != null) {
            return given;
        }
        return Boolean.getBoolean(STRESS) ? System.nanoTime() ^ System.identityHashCode(new Object()) : pinned;
    }
}
