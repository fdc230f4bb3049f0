package org.lparemu.bench.wire;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import org.lparemu.proto.v1.GuestFrame;
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

    private SocketCaller(Socket socket, Workload workload, int bufferBytes) throws IOException {
        this.socket = socket;
        this.workload = workload;
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(30_000);
        out = socket.getOutputStream();
        // Buffered: parseDelimitedFrom reads the length byte by byte; the buffer never blocks for more than arrived.
        in = new BufferedInputStream(socket.getInputStream(), bufferBytes);
    }

    /** Connects to a guest port on loopback, binds {@link Workload#PARTITION}, waits for Welcome. */
    public static SocketCaller connect(int port, Workload workload, String clientName) throws IOException {
        return connect(port, workload, Workload.PARTITION, clientName, 8192);
    }

    /**
     * Connects to a guest port on loopback, sends Hello for {@code partition} and waits for Welcome.
     *
     * @param workload    the call {@link #roundTrip} makes (may be null when only {@link #batch} is used)
     * @param bufferBytes the read buffer (small when a thousand connections are held open)
     */
    public static SocketCaller connect(int port, Workload workload, String partition, String clientName,
                                       int bufferBytes) throws IOException {
        SocketCaller c = new SocketCaller(new Socket(InetAddress.getLoopbackAddress(), port), workload, bufferBytes);
        try {
            Workload.hello(partition, clientName).writeDelimitedTo(c.out);
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

    /**
     * Writes every frame, flushes once, then reads one reply per frame (replies to calls that answer at once come
     * back in order on one connection).
     */
    public List<HostFrame> batch(List<GuestFrame> frames) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        for (var f : frames) {
            f.writeDelimitedTo(buf);
        }
        buf.writeTo(out);
        out.flush();
        List<HostFrame> replies = new ArrayList<>(frames.size());
        for (int i = 0; i < frames.size(); i++) {
            HostFrame f = HostFrame.parseDelimitedFrom(in);
            if (f == null) {
                throw new IOException("connection closed after " + i + " of " + frames.size() + " replies");
            }
            replies.add(f);
        }
        return replies;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
