package org.lparemu.server;

import java.net.InetAddress;

/**
 * How the daemon listens.
 *
 * @param bind         address both ports bind to (loopback by default)
 * @param guestPort    guest port (7720; 0 = ephemeral)
 * @param controlPort  control port (7721; 0 = ephemeral)
 * @param controlToken shared secret required on the control port, or null for none
 * @param ioThreads    Netty IO threads (1 measured best on 2 cores)
 */
public record ServerSettings(InetAddress bind, int guestPort, int controlPort, String controlToken, int ioThreads) {
    public static final int DEFAULT_GUEST_PORT = 7720;
    public static final int DEFAULT_CONTROL_PORT = 7721;

    public static ServerSettings loopback(int guestPort, int controlPort) {
        return new ServerSettings(InetAddress.getLoopbackAddress(), guestPort, controlPort, null, 1);
    }

    public static ServerSettings ephemeral() {
        return loopback(0, 0);
    }

    public ServerSettings withToken(String token) {
        return new ServerSettings(bind, guestPort, controlPort, token, ioThreads);
    }
}
