package org.lparemu.core.guest;

import java.util.Objects;

/**
 * How a guest kernel runs: its VAS and PRRN algorithms, its topology-update era, its clock, and a name for logs and
 * reports.
 *
 * @param vasPolicy  the window-open vs migration algorithm
 * @param prrnPolicy the PRRN vs migration algorithm
 * @param clock      all guest time, for the default machine
 * @param name       free text (partition or process name)
 * @param machine    builds the guest's processors and scheduler; null = real threads over {@code clock}
 *                   ({@link ThreadMachine})
 * @param topologyPolicy the kernel era of CPU topology updates (numa.c); {@link TopologyPolicy#V5_9} unless given
 */
public record GuestConfig(VasPolicy vasPolicy, PrrnPolicy prrnPolicy, GuestClock clock, String name,
                          Machine.Factory machine, TopologyPolicy topologyPolicy) {
    public GuestConfig {
        Objects.requireNonNull(vasPolicy, "vasPolicy");
        Objects.requireNonNull(prrnPolicy, "prrnPolicy");
        Objects.requireNonNull(topologyPolicy, "topologyPolicy");
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(name, "name");
    }

    public GuestConfig(VasPolicy vasPolicy, PrrnPolicy prrnPolicy, GuestClock clock, String name,
                       Machine.Factory machine) {
        this(vasPolicy, prrnPolicy, clock, name, machine, TopologyPolicy.V5_9);
    }

    public GuestConfig(VasPolicy vasPolicy, PrrnPolicy prrnPolicy, GuestClock clock, String name) {
        this(vasPolicy, prrnPolicy, clock, name, null);
    }

    /** The machine factory to boot with: {@link #machine()} or real threads over the clock. */
    public Machine.Factory machineFactory() {
        return machine != null ? machine : ThreadMachine.over(clock);
    }

    /** Today's upstream kernel: UPSTREAM VAS, PRRN ignored, real time. */
    public static GuestConfig upstream(String name) {
        return new GuestConfig(VasPolicy.UPSTREAM, PrrnPolicy.IGNORE, SystemGuestClock.realTime(), name);
    }

    public GuestConfig withVasPolicy(VasPolicy p) {
        return new GuestConfig(p, prrnPolicy, clock, name, machine, topologyPolicy);
    }

    public GuestConfig withPrrnPolicy(PrrnPolicy p) {
        return new GuestConfig(vasPolicy, p, clock, name, machine, topologyPolicy);
    }

    public GuestConfig withClock(GuestClock c) {
        return new GuestConfig(vasPolicy, prrnPolicy, c, name, machine, topologyPolicy);
    }

    public GuestConfig withMachine(Machine.Factory m) {
        return new GuestConfig(vasPolicy, prrnPolicy, clock, name, m, topologyPolicy);
    }

    public GuestConfig withTopologyPolicy(TopologyPolicy p) {
        return new GuestConfig(vasPolicy, prrnPolicy, clock, name, machine, p);
    }
}
