package org.lparemu.core.trace;

/** What a trace record stands for. */
public enum TraceKind {
    /** A guest call reached the platform. */
    CALL_BEGIN,
    /** A guest call was answered (or failed); points back at its CALL_BEGIN. */
    CALL_END,
    /** A platform event was pushed to a guest. */
    EVENT,
    /** A guest acknowledged an event. */
    EVENT_ACK,
    /** A control-port operator action. */
    OPERATOR,
    /** A fault rule fired. */
    FAULT,
    /** A hypervisor state change (VASI transition, suspend, resume, move). */
    STATE,
    /** A guest connection opened or closed. */
    CONNECTION,
    /** A guest kernel tracepoint (a named point inside the guest's algorithms). */
    GUEST,
    /** A call no real processor could have made, refused before it did anything (vCPU busy or stopped, RTAS busy). */
    REFUSED
}
