package org.lparemu.bench.wire;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.lparemu.client.GuestConnection;

/**
 * The pipelined load through the product's own client library: N {@link GuestConnection}s (each with its own
 * IO thread, as the library makes them), {@code depth} {@code hcallAsync} chains per connection.
 */
public final class GuestConnectionLoad extends ClosedLoopLoad {
    private final List<GuestConnection> conns = new ArrayList<>();
    private final Workload workload;

    public GuestConnectionLoad(int port, Workload workload, int connections, int depth) {
        super(connections, depth);
        this.workload = workload;
        try {
            for (int i = 0; i < connections; i++) {
                conns.add(GuestConnection.connect("127.0.0.1", port, Workload.PARTITION, "bench-gc-" + i, false,
                        Duration.ofSeconds(10), Duration.ofSeconds(30)));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    protected void startAll() {
        for (GuestConnection c : conns) {
            for (int i = 0; i < depth; i++) {
                slotOpened();
                issue(c);
            }
        }
    }

    private void issue(GuestConnection c) {
        long t0 = System.nanoTime();
        c.hcallAsync(0, workload.opcode, workload.args, null).whenComplete((r, e) -> {
            boolean ok = e == null && r.status() == workload.expectedStatus;
            if (answered(System.nanoTime() - t0, ok, e != null ? e : r)) {
                issue(c);
            }
        });
    }

    @Override
    public void close() {
        conns.forEach(GuestConnection::close);
    }
}
