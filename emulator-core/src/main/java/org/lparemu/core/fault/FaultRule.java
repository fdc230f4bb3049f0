package org.lparemu.core.fault;

/** {@code when(match).then(action)}. */
public record FaultRule(FaultMatch match, FaultAction action) {
    public FaultRule {
        if (match == null || action == null) {
            throw new IllegalArgumentException("a fault rule needs a match and an action");
        }
    }
}
