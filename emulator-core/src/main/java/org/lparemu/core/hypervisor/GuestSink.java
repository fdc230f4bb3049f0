package org.lparemu.core.hypervisor;

import org.lparemu.core.port.PlatformEvent;

/**
 * The transport side of a guest connection, as the platform sees it: where pushed events go and how the
 * platform closes the connection. Implemented by the Netty session handler and by the in-process port.
 * Both methods may be called from any thread and must not block.
 */
public interface GuestSink {
    /** Deliver one platform event to the guest. */
    void deliver(PlatformEvent event);

    /**
     * Close the connection from the platform side (fault rule Disconnect, partition deleted, Reset, shutdown).
     * Calls still pending on it are failed by the platform.
     */
    void disconnect(DisconnectReason reason, String message);

    /** Remote address for logs and GetState ("in-process" for the in-process port). */
    String remote();

    enum DisconnectReason {
        FAULT_DISCONNECT,
        PARTITION_GONE,
        SHUTTING_DOWN
    }
}
