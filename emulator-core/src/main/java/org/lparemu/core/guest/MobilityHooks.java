package org.lparemu.core.guest;

/**
 * What a migration asks of the device-tree side, so that {@link PrrnPolicy} can order PRRN updates against it.
 * {@link PseriesMobility} calls {@link #migrationBegin()} first thing, {@link #migrationDevicetreeUpdate(int)}
 * for the post-resume update (only after a successful suspend), and {@link #migrationEnd()} right after that
 * update, or at the end of a migration that did not get that far; exactly once per migration.
 */
public interface MobilityHooks {

    /** A migration starts; may block (DRAIN_BEFORE_SUSPEND waits for outstanding PRRNs here). */
    void migrationBegin();

    /** The migration's own {@code pseries_devicetree_update(scope)}; returns its result. */
    int migrationDevicetreeUpdate(int scope);

    /** The migration's device-tree work is over (deferred PRRNs may run now). */
    void migrationEnd();

    /** No ordering at all: the update runs as is. */
    static MobilityHooks direct(DeviceTreeUpdate update) {
        return new MobilityHooks() {
            @Override
            public void migrationBegin() {
            }

            @Override
            public int migrationDevicetreeUpdate(int scope) {
                return update.pseriesDevicetreeUpdate(scope);
            }

            @Override
            public void migrationEnd() {
            }
        };
    }
}
