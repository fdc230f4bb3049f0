package org.lparemu.core.fault;

/**
 * A call parked at a latch by a Hold action, as AwaitHold reports it.
 *
 * @param parkId unique per platform, grows
 * @param status for AFTER holds, the status the hypervisor produced (0 for BEFORE holds)
 */
public record ParkedCall(long parkId, String latch, CallInfo call, When when, long status) {
}
