package org.lparemu.it;

import com.google.protobuf.MessageLite;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import org.lparemu.proto.v1.ControlResponse;
import org.lparemu.proto.v1.GuestFrame;
import org.lparemu.proto.v1.Hello;
import org.lparemu.proto.v1.HostFrame;

/**
 * A plain blocking socket speaking (or deliberately not speaking) the delimited protobuf framing: what a
 * hostile or careless client in any language can do. Reads time out after 10 s so a missing answer fails the
 * test instead of hanging it.
 */
final class RawConn implements AutoCloseable {
    final Socket socket;
    final OutputStream out;
    final InputStream in;

    RawConn(int port) throws IOException {
        this(port, 0);
    }

    /** {@code receiveBuffer} > 0 shrinks this side's socket receive buffer (set before connecting). */
    RawConn(int port, int receiveBuffer) throws IOException {
        socket = new Socket();
        if (receiveBuffer > 0) {
            socket.setReceiveBufferSize(receiveBuffer);
        }
        socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 10_000);
        socket.setSoTimeout(10_000);
        out = socket.getOutputStream();
        in = socket.getInputStream();
    }

    int localPort() {
        return socket.getLocalPort();
    }

    void write(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    void send(MessageLite m) throws IOException {
        m.writeDelimitedTo(out);
        out.flush();
    }

    HostFrame readHost() throws IOException {
        return HostFrame.parseDelimitedFrom(in);
    }

    ControlResponse readControl() throws IOException {
        return ControlResponse.parseDelimitedFrom(in);
    }

    /** Sends Hello and returns the daemon's answer (Welcome, or a ProtocolError). */
    HostFrame hello(String partition) throws IOException {
        send(GuestFrame.newBuilder().setHello(Hello.newBuilder().setPartition(partition).setProtocolVersion(1)
                .setClientName("raw")).build());
        return readHost();
    }

    /**
     * True when the daemon closed the connection: EOF (or a reset) before any further byte. A byte, or no
     * answer within the read timeout, is false.
     */
    boolean closedByPeer() throws IOException {
        try {
            return in.read() == -1;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (SocketException e) {
            return true;
        }
    }

    /** Vanish the way a killed process does: RST, no FIN handshake. */
    void abort() throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    /**
     * Waits for a condition that some other party makes true (a connection closing in the daemon, a call
     * parking). Re-checks it, yielding between checks, until it holds or {@code max} passes.
     */
    @SuppressWarnings("ThreadPriorityCheck") // polls a condition another party makes true
    static void await(String what, Duration max, BooleanSupplier condition) {
        long deadline = System.nanoTime() + max.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + max + " waiting for: " + what);
            }
            Thread.yield();
        }
    }
}
