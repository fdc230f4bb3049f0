package org.lparemu.core.guest;

import java.util.Objects;

/**
 * How a guest kernel runs: its VAS and PRRN algorithms, its clock, and a name for logs and reports.
 *
 * @param vasPolicy  the window-open vs migration algorithm
 * @param prrnPolicy the PRRN vs migration algorithm
 * @param clock      all guest time
 * @param name       free text (partition or process name)
 */
public record GuestConfig(VasPolicy vasPolicy, PrrnPolicy prrnPolicy, GuestClock clock, String name) {
    public GuestConfig {
        Objects.requireNonNull(vasPolicy, "vasPolicy");
        Objects.requireNonNull(prrnPolicy, "prrnPolicy");
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(name, "name");
    }

    /** Today's upstream kernel: UPSTREAM VAS, PRRN ignored, real time. */
    public static GuestConfig upstream(String name) {
        return new GuestConfig(VasPolicy.UPSTREAM, PrrnPolicy.IGNORE, SystemGuestClock.realTime(), name);
    }

    public GuestConfig withVasPolicy(VasPolicy p) {
        return new GuestConfig(p, prrnPolicy, clock, name);
    }

    public GuestConfig withPrrnPolicy(PrrnPolicy p) {
        return new GuestConfig(vasPolicy, p, clock, name);
    }

    public GuestConfig withClock(GuestClock c) {
        return new GuestConfig(vasPolicy, prrnPolicy, c, name);
    }
}
