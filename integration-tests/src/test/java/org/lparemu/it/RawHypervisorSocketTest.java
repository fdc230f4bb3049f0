package org.lparemu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.lparemu.client.ControlClient;
import org.lparemu.client.GuestConnection;
import org.lparemu.core.hypervisor.PartitionTrees;
import org.lparemu.core.hypervisor.PlatformConfig;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.RtasErrorLog;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.papr.UpdateNodesWorkArea;
import org.lparemu.core.papr.UpdatePropertiesWorkArea;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.papr.VasiState;
import org.lparemu.core.port.DeviceTree;
import org.lparemu.core.port.HcallResult;
import org.lparemu.core.port.PlatformEvent;
import org.lparemu.core.port.RtasResult;
import org.lparemu.proto.v1.DeviceTreeChange;
import org.lparemu.proto.v1.PartitionState;
import org.lparemu.proto.v1.Property;
import org.lparemu.server.EmbeddedDaemon;
import org.lparemu.wire.ProtoMapping;

/**
 * The hypervisor driven over real sockets with raw hcalls and RTAS calls, no guest kernel: what a test
 * client in any language can do. Each step is checked against GetState.
 */
class RawHypervisorSocketTest {
    static final long BUF = 0x10000000L;

    /** A raw guest: a socket port plus the events it received. */
    static final class Raw implements AutoCloseable {
        final GuestConnection port;
        final LinkedBlockingQueue<PlatformEvent> events = new LinkedBlockingQueue<>();

        Raw(EmbeddedDaemon d, String partition) {
            port = d.guest(partition);
            port.setEventListener(events::add);
        }

        long openWindow() {
            HcallResult a = port.hcall(0, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_DEFAULT, 1, Vas.DEFAULT_DOMAIN_ID);
            assertEquals(HStatus.H_SUCCESS, a.status(), a.toString());
            assertEquals(HStatus.H_SUCCESS,
                    port.hcall(0, Hcall.H_MODIFY_VAS_WINDOW, a.ret(0), 77, 0, Vas.MOD_WIN_FLAGS, 0).status());
            return a.ret(0);
        }

        PlatformEvent event() throws InterruptedException {
            PlatformEvent e = events.poll(10, TimeUnit.SECONDS);
            assertTrue(e != null, "no platform event");
            return e;
        }

        /** Every node entry of an update-nodes sequence. */
        List<UpdateNodesWorkArea.Entry> updateNodes(int scope) {
            List<UpdateNodesWorkArea.Entry> out = new ArrayList<>();
            byte[] wa = new byte[RtasService.WORK_AREA_SIZE];
            while (true) {
                RtasResult r = port.rtas(0, RtasService.UPDATE_NODES, new long[] {0x2000, scope}, wa);
                assertTrue(r.status() == 0 || r.status() == 1, "update-nodes status " + r.status());
                wa = r.workArea();
                out.addAll(UpdateNodesWorkArea.decode(wa));
                if (r.status() == 0) {
                    return out;
                }
            }
        }

        /** A node's properties from update-properties (partial values joined). */
        Map<String, byte[]> updateProperties(int phandle, int scope) {
            Map<String, byte[]> props = new TreeMap<>();
            byte[] wa = UpdatePropertiesWorkArea.initial(phandle);
            ByteArrayOutputStream partial = new ByteArrayOutputStream();
            while (true) {
                RtasResult r = port.rtas(0, RtasService.UPDATE_PROPERTIES, new long[] {0x2000, scope}, wa);
                assertTrue(r.status() == 0 || r.status() == 1, "update-properties status " + r.status());
                wa = r.workArea();
                for (var d : UpdatePropertiesWorkArea.decode(wa).descriptors()) {
                    if (d.name().isEmpty() || d.isDelete() || d.isNameOnly()) {
                        continue;
                    }
                    partial.writeBytes(d.value());
                    if (d.isFull()) {
                        props.put(d.name(), partial.toByteArray());
                        partial.reset();
                    }
                }
                if (r.status() == 0) {
                    return props;
                }
            }
        }

        @Override
        public void close() {
            port.close();
        }
    }

    @Test
    void wholeMigrationWithRawCalls() throws Exception {
        try (EmbeddedDaemon d = EmbeddedDaemon.start(); ControlClient c = d.control(); Raw g = new Raw(d, "lpar1")) {
            long w1 = g.openWindow();
            long w2 = g.openWindow();
            PartitionState s = c.getState("lpar1");
            assertEquals(2, s.getWindowsCount());
            long sourcePaste = s.getWindows(0).getPasteAddress();

            var m = c.migrate("lpar1", "");
            assertEquals("destination", m.getDestination());
            PlatformEvent ev = g.event();
            assertEquals(m.getStreamId(), ((PlatformEvent.MigrationRequest) ev).streamId());
            assertEquals(VasiState.SUSPENDING.code, g.port.hcall(0, Hcall.H_VASI_STATE, m.getStreamId()).ret(0));

            // Suspend with windows open: refused with RTAS_OUTSTANDING_COPROC.
            int vcpus = g.port.bootInfo().vcpus();
            List<CompletableFuture<HcallResult>> joins = new ArrayList<>();
            for (int v = 1; v < vcpus; v++) {
                joins.add(g.port.hcallAsync(v, Hcall.H_JOIN, new long[0], null, true));
            }
            assertEquals(HStatus.H_CONTINUE, g.port.hcall(0, Hcall.H_JOIN, new long[0], null, true).status());
            assertEquals(vcpus - 1, awaitJoined(c, vcpus - 1));
            assertEquals(RtasStatus.OUTSTANDING_COPROC, g.port.rtas(0, RtasService.SUSPEND_ME, new long[0], null).status());
            for (int v = 1; v < vcpus; v++) {
                assertEquals(HStatus.H_SUCCESS, g.port.hcall(0, Hcall.H_PROD, v).status());
            }
            for (CompletableFuture<HcallResult> j : joins) {
                assertEquals(HStatus.H_SUCCESS, j.get(10, TimeUnit.SECONDS).status());
            }

            // Close the windows, join again, suspend.
            assertEquals(HStatus.H_SUCCESS, g.port.hcall(0, Hcall.H_DEALLOCATE_VAS_WINDOW, w1).status());
            assertEquals(HStatus.H_SUCCESS, g.port.hcall(0, Hcall.H_DEALLOCATE_VAS_WINDOW, w2).status());
            joins.clear();
            for (int v = 1; v < vcpus; v++) {
                joins.add(g.port.hcallAsync(v, Hcall.H_JOIN, new long[0], null, true));
            }
            assertEquals(HStatus.H_CONTINUE, g.port.hcall(0, Hcall.H_JOIN, new long[0], null, true).status());
            awaitJoined(c, vcpus - 1);
            assertEquals(RtasStatus.SUCCESS, g.port.rtas(0, RtasService.SUSPEND_ME, new long[0], null).status());
            for (int v = 1; v < vcpus; v++) {
                g.port.hcall(0, Hcall.H_PROD, v);
            }
            for (CompletableFuture<HcallResult> j : joins) {
                assertEquals(HStatus.H_SUCCESS, j.get(10, TimeUnit.SECONDS).status());
            }

            // On the destination: update the device tree, then windows and credits follow the destination.
            assertEquals(RtasStatus.SUCCESS, g.port.rtas(0, RtasService.ACTIVATE_FIRMWARE, new long[0], null).status());
            DeviceTree tree = g.port.bootInfo().deviceTree().copy();
            List<UpdateNodesWorkArea.Entry> entries = g.updateNodes(RtasService.MIGRATION_SCOPE);
            assertTrue(!entries.isEmpty(), "the destination's tree differs from the source's");
            for (UpdateNodesWorkArea.Entry e : entries) {
                assertEquals(UpdateNodesWorkArea.Action.UPDATE, e.action(), e.toString());
                DeviceTree.Node n = tree.nodeByPhandle(e.phandle());
                for (Map.Entry<String, byte[]> p : g.updateProperties(e.phandle(), RtasService.MIGRATION_SCOPE).entrySet()) {
                    tree.setProperty(n.path(), p.getKey(), p.getValue());
                }
            }
            PartitionState after = c.getState("lpar1");
            assertEquals("destination", after.getSystem());
            DeviceTree platformTree = ProtoMapping.fromProto(after.getDeviceTree());
            assertEquals(List.of(), tree.diff(platformTree), "update-nodes + update-properties give the destination tree");

            assertEquals(HStatus.H_PARAMETER, g.port.hcall(0, Hcall.H_MODIFY_VAS_WINDOW, w1, 77, 0,
                    Vas.MOD_WIN_FLAGS, 0).status(), "source window ids mean nothing on the destination");
            long w3 = g.openWindow();
            PartitionState reopened = c.getState("lpar1");
            assertNotEquals(sourcePaste & ~0xFFFFFFFFFL, reopened.getWindows(0).getPasteAddress() & ~0xFFFFFFFFFL,
                    "a new paste address from the destination's range");
            assertEquals(w3, reopened.getWindows(0).getWinId());

            var outcome = c.awaitMigration("lpar1", Duration.ofSeconds(10));
            assertTrue(outcome.getSuccess(), outcome.toString());
            assertEquals(List.of(RtasStatus.OUTSTANDING_COPROC, RtasStatus.SUCCESS), outcome.getRtasStatusesList());
            assertEquals(org.lparemu.proto.v1.VasiState.VASI_COMPLETED, outcome.getVasiState());
            assertTrue(outcome.getHcalls() > 10);
        }
    }

    private static int awaitJoined(ControlClient c, int n) throws InterruptedException {
        // H_JOIN is answered only later, so wait on the hypervisor's view through GetState.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            int joined = c.getState("lpar1").getJoinedVcpusCount();
            if (joined == n) {
                return joined;
            }
            Thread.onSpinWait();
        }
        throw new AssertionError("vCPUs did not all join");
    }

    @Test
    void prrnUpdateOverSockets() throws Exception {
        try (EmbeddedDaemon d = EmbeddedDaemon.start(); ControlClient c = d.control(); Raw g = new Raw(d, "lpar1")) {
            String cpu = PartitionTrees.cpuPath(1, 2); // lpar1: 2 cores of 2 threads
            byte[] assoc = DeviceTree.cells(4, 9, 9, 9, 9);
            var r = c.prrn("lpar1", List.of(DeviceTreeChange.newBuilder().setPath(cpu).setSetProperty(
                    Property.newBuilder().setName("ibm,associativity").setValue(ByteString.copyFrom(assoc))).build()));
            PlatformEvent.PrrnEvent ev = (PlatformEvent.PrrnEvent) g.event();
            assertEquals(r.getScope(), ev.scope());
            List<UpdateNodesWorkArea.Entry> entries = g.updateNodes(-ev.scope());
            assertEquals(1, entries.size());
            int phandle = entries.get(0).phandle();
            assertEquals(cpu, g.port.bootInfo().deviceTree().nodeByPhandle(phandle).path());
            assertTrue(Arrays.equals(assoc, g.updateProperties(phandle, -ev.scope()).get("ibm,associativity")));
            assertTrue(c.getState("lpar1").getDeviceTreeGeneration() > g.port.bootInfo().deviceTree().generation());
        }
    }

    @Test
    void dlparCreditChangeOverSockets() throws Exception {
        try (EmbeddedDaemon d = EmbeddedDaemon.start(); ControlClient c = d.control(); Raw g = new Raw(d, "lpar1")) {
            var before = Vas.CopFeatCaps.decode(g.port.hcall(0, Hcall.H_QUERY_VAS_CAPABILITIES, Vas.QUERY_GZIP_DEFAULT, BUF).buffer());
            assertEquals(40, before.targetLparCreds());
            var r = c.dlparCpu("lpar1", false, 1);
            assertEquals(1, r.getCores());
            assertEquals(20, r.getTargetCredits());
            PlatformEvent.DlparCpu ev = (PlatformEvent.DlparCpu) g.event();
            assertTrue(!ev.add());
            var after = Vas.CopFeatCaps.decode(g.port.hcall(0, Hcall.H_QUERY_VAS_CAPABILITIES, Vas.QUERY_GZIP_DEFAULT, BUF).buffer());
            assertEquals(20, after.targetLparCreds());
            assertEquals(20, c.getState("lpar1").getCreditsList().stream().filter(x -> x.getWinType() == 1)
                    .findFirst().orElseThrow().getTarget());
            long qosEvent = c.setQosCredits("lpar1", 5);
            PlatformEvent.QosCredits q = (PlatformEvent.QosCredits) g.event();
            assertEquals(qosEvent, q.eventId());
            assertEquals(5, q.credits());
        }
    }

    @Test
    void nxFaultInterruptOverSockets() throws Exception {
        try (EmbeddedDaemon d = EmbeddedDaemon.start(); Raw g = new Raw(d, "lpar1")) {
            HcallResult a = g.port.hcall(0, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_DEFAULT, 1, Vas.DEFAULT_DOMAIN_ID);
            assertEquals(HStatus.H_SUCCESS,
                    g.port.hcall(0, Hcall.H_MODIFY_VAS_WINDOW, a.ret(0), 77, 0, Vas.MOD_WIN_FLAGS, 0).status());
            long faultAddress = 0x7e0000002000L;
            assertEquals(HStatus.H_SUCCESS,
                    g.port.hcall(0, Hcall.H_LPAREMU_NX_PASTE, a.ret(1), 4096, faultAddress, 0x7fff00000080L).status());
            PlatformEvent.Interrupt irq = (PlatformEvent.Interrupt) g.event();
            assertEquals((int) a.ret(3), irq.irq(), "the window's fault interrupt");
            HcallResult crb = g.port.hcall(0, Hcall.H_GET_NX_FAULT, a.ret(0), BUF);
            assertEquals(HStatus.H_SUCCESS, crb.status());
            assertEquals(faultAddress, Vas.FaultCrb.decode(crb.buffer()).faultStorageAddress());
        }
    }

    @Test
    void prrnEventLogOverSockets() throws Exception {
        PlatformConfig config = PlatformConfig.defaults().withHypervisor(
                PlatformConfig.HypervisorOptions.DEFAULT.withPrrnDelivery(PlatformConfig.PrrnDelivery.EVENT_LOG));
        try (EmbeddedDaemon d = EmbeddedDaemon.start(config); ControlClient c = d.control(); Raw g = new Raw(d, "lpar1")) {
            String cpu = PartitionTrees.cpuPath(1, 2);
            var r = c.prrn("lpar1", List.of(DeviceTreeChange.newBuilder().setPath(cpu).setSetProperty(
                    Property.newBuilder().setName("ibm,associativity")
                            .setValue(ByteString.copyFrom(DeviceTree.cells(4, 9, 9, 9, 9)))).build()));
            RtasResult log = g.port.rtas(0, RtasService.EVENT_SCAN,
                    new long[] {RtasService.EVENT_SCAN_ALL_EVENTS, 0, 0x3000, 1024}, new byte[1024]);
            assertEquals(RtasStatus.SUCCESS, log.status());
            assertEquals(RtasErrorLog.prrn(r.getScope()), RtasErrorLog.decode(log.workArea()));
            assertTrue(g.events.isEmpty(), "nothing pushed");
        }
    }
}
