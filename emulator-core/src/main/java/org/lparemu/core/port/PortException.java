package org.lparemu.core.port;

/**
 * The port could not deliver a call or get its answer: the daemon is gone, the connection was closed (for
 * example by a fault rule's Disconnect), or the call timed out. Not a PAPR status: a real CPU never sees this.
 */
public class PortException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public PortException(String message) {
        super(message);
    }

    public PortException(String message, Throwable cause) {
        super(message, cause);
    }
}
