package org.lparemu.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.lparemu.core.guest.PrrnPolicy;
import org.lparemu.core.guest.TopologyPolicy;
import org.lparemu.core.guest.VasPolicy;

/**
 * Chooses what an injected {@link org.lparemu.core.guest.GuestKernel} or {@link org.lparemu.client.GuestConnection}
 * parameter is: its partition and, for a kernel, its policies. Unset members take {@link LparemuTest}'s.
 *
 * <pre>{@code
 * void test(@Guest(vas = VasPolicy.PRE_FIX) GuestKernel prefix, ControlClient control) { ... }
 * }</pre>
 */
@Target(ElementType.PARAMETER)
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface Guest {
    /** The partition; empty = {@link LparemuTest#partition()}. */
    String partition() default "";

    /** The VAS policy (at most one); none = {@link LparemuTest#vasPolicy()}. */
    VasPolicy[] vas() default {};

    /** The PRRN policy (at most one); none = {@link LparemuTest#prrnPolicy()}. */
    PrrnPolicy[] prrn() default {};

    /** The CPU topology-update era (at most one); none = {@link LparemuTest#topologyPolicy()}. */
    TopologyPolicy[] topology() default {};

    /**
     * For a {@code GuestConnection}: whether the platform's events (migration requests, PRRN, DLPAR, QoS) go to it.
     * Off by default, so that a raw connection never takes the events an injected kernel must handle. A kernel
     * always takes events.
     */
    boolean events() default false;
}
