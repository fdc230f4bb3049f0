package org.lparemu.core.guest;

/**
 * How the guest handles PRRN (platform resource reassignment) events relative to a migration's own
 * device-tree update. Each constant is an algorithm; stale device trees and the like come out of running it
 * against the platform's model (prrn-model.md), never from the policy knowing the scenario.
 */
public enum PrrnPolicy {
    /**
     * Pre-2019: the rtasd worker runs {@code pseries_devicetree_update(-scope)} with no lock against the
     * migration's post-resume update; the two can interleave and a PRRN can straddle the suspend.
     */
    UNSERIALIZED,
    /**
     * The 2019 proposal (Juliet Kim): one mutex around every device-tree update, PRRN and migration alike.
     * Updates no longer interleave, but a PRRN fetched on the source may still be applied after the migration.
     */
    DT_MUTEX,
    /**
     * The reviewer's requirement (Nathan Lynch): before migrating, wait until every PRRN already received has
     * finished; PRRNs that arrive while a migration is under way are deferred and run (fetched again, now from
     * the destination) after the migration's own device-tree update.
     */
    DRAIN_BEFORE_SUSPEND,
    /** Linux v5.9+: log "Platform resource reassignment ignored." and do nothing else. */
    IGNORE
}
