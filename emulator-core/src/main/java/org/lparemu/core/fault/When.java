package org.lparemu.core.fault;

/** When a fault action applies relative to the call it matched. */
public enum When {
    /** Before the hypervisor runs the call. */
    BEFORE,
    /** After the hypervisor ran the call, before the reply goes back. */
    AFTER
}
