package org.lparemu.core.fault;

/**
 * What a rule does when it fires. {@link ReturnStatus} and {@link Disconnect} end rule evaluation for the
 * call; {@link Delay}, {@link Hold} and {@link Trigger} let later rules apply too.
 */
public sealed interface FaultAction {
    /** BEFORE or AFTER the hypervisor runs the call. */
    When when();

    /** True when no later rule is evaluated for the call. */
    default boolean terminal() {
        return false;
    }

    /**
     * Answer with this status and return registers: BEFORE, instead of running the call; AFTER, in place of
     * what the call produced (its effects stay: a window allocated and reported failed is a leak to find).
     */
    record ReturnStatus(long status, long[] rets, When when) implements FaultAction {
        public ReturnStatus {
            rets = rets == null ? new long[0] : rets.clone();
        }

        @Override
        public boolean terminal() {
            return true;
        }
    }

    /** Wait this long (on the platform's timer, never a blocked thread). */
    record Delay(long ms, When when) implements FaultAction {
        public Delay {
            if (ms < 0 || ms > 3_600_000) {
                throw new IllegalArgumentException("delay must be 0..3600000 ms, got " + ms);
            }
        }
    }

    /** Park the call at a named latch until released. */
    record Hold(String latch, When when) implements FaultAction {
        public Hold {
            if (latch == null || latch.isEmpty() || latch.length() > 128) {
                throw new IllegalArgumentException("a hold needs a latch name of 1..128 characters");
            }
        }
    }

    /** Close the calling guest's connection; the call gets no reply. */
    record Disconnect() implements FaultAction {
        @Override
        public When when() {
            return When.BEFORE;
        }

        @Override
        public boolean terminal() {
            return true;
        }
    }

    /** Start an operator action (migrate, PRRN, DLPAR, QoS) when the call matches. */
    record Trigger(OperatorAction action, When when) implements FaultAction {
    }

    /**
     * An operator action a trigger starts. The platform defines the concrete actions (migrate, PRRN, DLPAR,
     * QoS) and runs them; this package only carries them.
     */
    interface OperatorAction {
        /** Target partition; null or empty = the calling partition. */
        String partition();

        /** One line for traces and ListFaults. */
        String describe();
    }
}
