package org.lparemu.core.hypervisor;

/** Typed control-plane errors; mirrors the wire protocol's ErrorCode one to one. */
public enum ControlError {
    UNKNOWN_PARTITION,
    DUPLICATE_NAME,
    BAD_SPEC,
    UNSUPPORTED,
    TIMEOUT,
    BAD_REQUEST,
    UNKNOWN_SYSTEM,
    INVALID_STATE,
    LIMIT_EXCEEDED,
    UNKNOWN_RULE,
    UNAUTHENTICATED,
    SHUTTING_DOWN,
    UNKNOWN_EVENT,
    INTERNAL
}
