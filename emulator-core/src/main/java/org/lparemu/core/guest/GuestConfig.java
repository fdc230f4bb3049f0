package org.lparemu.core.guest;

import java.util.Objects;

/**
 * How a guest kernel runs: its VAS and PRRN algorithms, its clock, and a name for logs and reports.
 *
 * @param name       free text (partition or process name)
 * @param vasPolicy  the window-open vs migration algorithm
 * @param prrnPolicy the PRRN vs migration algorithm
 * @param clock      all guest time
 */
public record GuestConfig(String name, VasPolicy vasPolicy, PrrnPolicy prrnPolicy, GuestClock clock) {
    public GuestConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(vasPolicy, "vasPolicy");
        Objects.requireNonNull(prrnPolicy, "prrnPolicy");
        Objects.requireNonNull(clock, "clock");
    }

    /** Today's upstream kernel: UPSTREAM VAS, PRRN ignored, real time. */
    public static GuestConfig upstream(String name) {
        return new GuestConfig(name, VasPolicy.UPSTREAM, PrrnPolicy.IGNORE, SystemGuestClock.realTime());
    }

    public GuestConfig withVasPolicy(VasPolicy p) {
        return new GuestConfig(name, p, prrnPolicy, clock);
    }

    public GuestConfig withPrrnPolicy(PrrnPolicy p) {
        return new GuestConfig(name, vasPolicy, p, clock);
    }

    public GuestConfig withClock(GuestClock c) {
        return new GuestConfig(name, vasPolicy, prrnPolicy, c);
    }
}
