package org.lparemu.bench.wire;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import org.lparemu.proto.v1.HostFrame;

/**
 * The dependency-free blocking client of the protocol: a {@link Socket} with protobuf's
 * {@code writeDelimitedTo} / {@code parseDelimitedFrom}, one call at a time. It speaks to the daemon and to
 * the floor alike (both answer Hello with Welcome).
 */
public final class SocketCaller implements AutoCloseable {
    private final Socket socket;
    private final OutputStream out;
    private final InputStream in;
    private final Workload workload;

    private SocketCaller(Socket socket, Workload workload) throws IOException {
        this.socket = socket;
        this.workload = workload;
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(30_000);
        out = socket.getOutputStream();
        // Buffered: parseDelimitedFrom reads the length byte by byte; the buffer never blocks for more than arrived.
        in = new BufferedInputStream(socket.getInputStream(), 8192);
    }

    /** Connects to a guest port on loopback, sends Hello and waits for Welcome. */
    public static SocketCaller connect(int port, Workload workload, String clientName) throws IOException {
        SocketCaller c = new SocketCaller(new Socket(InetAddress.getLoopbackAddress(), port), workload);
        try {
            Workload.hello(clientName).writeDelimitedTo(c.out);
            c.out.flush();
            HostFrame w = HostFrame.parseDelimitedFrom(c.in);
            if (w == null || !w.hasWelcome()) {
                throw new IOException("expected Welcome, got " + w);
            }
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
        return c;
    }

    /** One call: writes the request frame, blocks for the reply, checks its call id. */
    public HostFrame roundTrip(long callId) throws IOException {
        workload.frame(callId).writeDelimitedTo(out);
        out.flush();
        HostFrame f = HostFrame.parseDelimitedFrom(in);
        if (f == null) {
            throw new IOException("connection closed");
        }
        if (!f.hasHcall() || f.getHcall().getCallId() != callId) {
            throw new IOException("unexpected reply to call " + callId + ": " + f);
        }
        return f;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
