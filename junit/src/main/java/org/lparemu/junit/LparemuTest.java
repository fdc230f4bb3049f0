package org.lparemu.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;
import org.lparemu.core.guest.PrrnPolicy;
import org.lparemu.core.guest.TopologyPolicy;
import org.lparemu.core.guest.VasPolicy;

/**
 * Runs a test class or method against an emulated PowerVM platform: a real daemon on ephemeral loopback ports (or
 * an in-process platform), with {@link org.lparemu.client.ControlClient}, {@link org.lparemu.client.GuestConnection},
 * booted {@link org.lparemu.core.guest.GuestKernel}s, {@link Emulator} and the daemon itself injected as test
 * method parameters (see {@link LparemuExtension} for every injectable type).
 *
 * <p>After each test the extension waits for the platform to go quiet and runs the invariant oracles (the same as
 * {@code ctl check}, plus each injected guest kernel's own checks); a violation fails the test. When a test fails,
 * for any reason, its trace is written under {@code target/lparemu/} as Chrome JSON (open it in Perfetto) and as
 * plain text, and the failure message names both files.
 *
 * <p>On a method, it overrides the class's annotation for that method, which then gets a platform of its own.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(LparemuExtension.class)
public @interface LparemuTest {
    /**
     * The daemon's configuration (a {@code lparemu.v1.DaemonConfig} in protobuf text format): a resource on the test
     * class path, else a file. Empty: the embedded default (systems {@code source} and {@code destination},
     * partition {@code lpar1} with 4 vCPUs on 2 dedicated cores).
     */
    String config() default "";

    /** The configuration as text, instead of {@link #config()} (for a test that needs one small change). */
    String configText() default "";

    /** Whether each test method gets a fresh platform (the default) or the class shares one. */
    Lifecycle lifecycle() default Lifecycle.PER_METHOD;

    /** Over the sockets, as the guest and control ports are used for real (the default), or in-process. */
    Transport transport() default Transport.SOCKET;

    /** The partition injected guests and connections bind to, unless {@link Guest#partition()} says otherwise. */
    String partition() default "lpar1";

    /** The VAS algorithm of injected guest kernels, unless {@link Guest#vas()} says otherwise. */
    VasPolicy vasPolicy() default VasPolicy.UPSTREAM;

    /** The PRRN algorithm of injected guest kernels, unless {@link Guest#prrn()} says otherwise. */
    PrrnPolicy prrnPolicy() default PrrnPolicy.DRAIN_BEFORE_SUSPEND;

    /** The CPU topology-update era of injected guest kernels, unless {@link Guest#topology()} says otherwise. */
    TopologyPolicy topologyPolicy() default TopologyPolicy.V5_9;

    /**
     * Real seconds per guest second for injected guest kernels: the default 0.001 makes the kernel's back-offs (1 s
     * VASI polls, 1/10/100/1000 ms suspend retries) a thousand times shorter, so a failing migration takes
     * milliseconds. 1.0 is real time.
     */
    double clockScale() default 0.001;

    /** Run the invariant oracles after each test and fail it on a violation. */
    boolean checkInvariants() default true;

    /**
     * How long to wait after a test for the platform to go quiet (no call in flight, no event unacknowledged, no
     * trace record for a moment) before the oracles run; past it they run anyway, and a violation's message says
     * the platform was still busy.
     */
    long quiesceTimeoutMs() default 10_000;

    /** Whether each test method gets its own platform. */
    enum Lifecycle {
        /** A fresh daemon (or platform) per test method: full isolation; test methods may run in parallel. */
        PER_METHOD,
        /**
         * One daemon for the whole class, reset (partitions recreated, rules and trace cleared) after each method:
         * faster for many small tests. Its methods must run one at a time.
         */
        PER_CLASS
    }

    /** How guests and test clients reach the platform. */
    enum Transport {
        /** A real daemon on ephemeral loopback ports; guests and the control client use the sockets. */
        SOCKET,
        /**
         * No sockets: guest kernels use an in-process port straight into the platform's dispatcher (the same call
         * pipeline). {@code ControlClient}, {@code GuestConnection} and the daemon cannot be injected.
         */
        IN_PROCESS
    }
}
