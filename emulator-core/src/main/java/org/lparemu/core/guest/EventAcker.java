package org.lparemu.core.guest;

/** Where a worker reports that it finished handling a platform event (normally {@code HcallPort::ackEvent}). */
@FunctionalInterface
public interface EventAcker {
    /** {@code status} is 0 or a negative errno. */
    void ack(long eventId, int status, String detail);
}
