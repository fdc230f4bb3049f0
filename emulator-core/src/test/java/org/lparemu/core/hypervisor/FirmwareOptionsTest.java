package org.lparemu.core.hypervisor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lparemu.core.fault.FaultAction;
import org.lparemu.core.fault.FaultMatch;
import org.lparemu.core.fault.FaultRule;
import org.lparemu.core.fault.When;
import org.lparemu.core.guest.DeviceTreeUpdate;
import org.lparemu.core.guest.GuestDeviceTree;
import org.lparemu.core.guest.KernelCalls;
import org.lparemu.core.guest.SystemGuestClock;
import org.lparemu.core.papr.ConfigureConnectorWorkArea;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.papr.UpdateNodesWorkArea;
import org.lparemu.core.papr.UpdateNodesWorkArea.Entry;
import org.lparemu.core.papr.UpdatePropertiesWorkArea;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.port.DeviceTree;
import org.lparemu.core.port.HcallResult;
import org.lparemu.core.port.RtasResult;
import org.lparemu.core.trace.TraceKind;

/**
 * The firmware behaviour papr-notes leaves UNCONFIRMED, each choice of {@link PlatformConfig.HypervisorOptions} on
 * the real platform: device-tree update sequences across a migration, busy and delay answers of
 * ibm,configure-connector, and which window states refuse a suspend or hold credits.
 */
@Timeout(30)
class FirmwareOptionsTest {
    private static final String VTY = "/vdevice/vty@30000000";
    private static final String MEMORY = "/memory@0";
    private static final byte[] BIG = new byte[600]; // more than one 64-byte update-properties call
    private static final byte[] PRRN_ASSOC = DeviceTree.cells(4, 7, 7, 7, 7);

    static {
        for (int i = 0; i < BIG.length; i++) {
            BIG[i] = (byte) (i * 7);
        }
    }

    private Rig rig;
    private Rig.Guest g;

    private void start(PlatformConfig.HypervisorOptions options) {
        rig = new Rig(options);
        g = rig.guest("lpar1");
    }

    private static PlatformConfig.HypervisorOptions batched() {
        PlatformConfig.HypervisorOptions o = PlatformConfig.HypervisorOptions.DEFAULT;
        return new PlatformConfig.HypervisorOptions(o.suspendWithWindows(), o.suspendRefusalStatus(),
                o.overCreditStatus(), 0, 0, 0, 60_000, 1, 64);
    }

    @AfterEach
    void close() {
        if (rig != null) {
            rig.close();
        }
    }

    private int phandle(String path) {
        return rig.state("lpar1").deviceTree().node(path).phandle();
    }

    private long notes(String name) {
        return rig.platform.trace().read(0, 100_000, "lpar1").records().stream()
                .filter(r -> r.kind() == TraceKind.STATE && r.name().equals(name)).count();
    }

    /** A PRRN of three nodes; the guest gets the first record and starts on the memory node's properties. */
    private record Begun(RtasResult nodes, RtasResult props, ByteArrayOutputStream memorySoFar) {
    }

    private Begun prrnBegunOnTheSource() {
        rig.platform.prrn("lpar1", List.of(
                DeviceTreeChange.setProperty(VTY, "compatible", DeviceTree.string("hvterm2")),
                DeviceTreeChange.setProperty(MEMORY, "reg", BIG),
                DeviceTreeChange.setProperty(PartitionTrees.cpuPath(0, 2), "ibm,associativity", PRRN_ASSOC)));
        RtasResult nodes = g.rtas(0, RtasService.UPDATE_NODES, new byte[RtasService.WORK_AREA_SIZE], 0, -1);
        assertEquals(RtasStatus.CALL_AGAIN, nodes.status());
        assertEquals(List.of(Entry.update(PartitionTrees.cpuPhandle(0))), UpdateNodesWorkArea.decode(nodes.workArea()));
        RtasResult props = g.rtas(0, RtasService.UPDATE_PROPERTIES, UpdatePropertiesWorkArea.initial(phandle(MEMORY)),
                0, -1);
        assertEquals(RtasStatus.CALL_AGAIN, props.status());
        ByteArrayOutputStream soFar = new ByteArrayOutputStream();
        for (var d : UpdatePropertiesWorkArea.decode(props.workArea()).descriptors()) {
            if (d.name().equals("reg")) {
                soFar.writeBytes(d.value());
            }
        }
        return new Begun(nodes, props, soFar);
    }

    private void migrate(String to) {
        rig.platform.migrate("lpar1", to);
        List<CompletableFuture<HcallResult>> parked = g.joinAllBut(3);
        assertEquals(RtasStatus.SUCCESS, Rig.await(g.rtasAsync(3, RtasService.SUSPEND_ME, null)).status());
        for (int v = 0; v < 3; v++) {
            g.hcall(3, Hcall.H_PROD, v);
            Rig.await(parked.get(v));
        }
        assertEquals(to, rig.state("lpar1").system());
        Rig.await(rig.platform.awaitMigration("lpar1", 5000));
    }

    /** Continues an ibm,update-properties from {@code workArea} to the end; the "reg" bytes of every call. */
    private byte[] regUntilDone(byte[] workArea, List<String> nameOrder) {
        ByteArrayOutputStream reg = new ByteArrayOutputStream();
        byte[] wa = workArea;
        RtasResult r;
        do {
            r = g.rtas(0, RtasService.UPDATE_PROPERTIES, wa, 0, -1);
            assertTrue(r.status() == RtasStatus.SUCCESS || r.status() == RtasStatus.CALL_AGAIN, "status " + r.status());
            wa = r.workArea();
            for (var d : UpdatePropertiesWorkArea.decode(wa).descriptors()) {
                nameOrder.add(d.name());
                if (d.name().equals("reg")) {
                    reg.writeBytes(d.value());
                }
            }
        } while (r.status() == RtasStatus.CALL_AGAIN);
        return reg.toByteArray();
    }

    // ---------------------------------------------------------------------------------------------------
    // update-nodes / update-properties across a migration

    @Test
    void restartAnswersASourceSequenceAsAFreshOneOnTheDestination() {
        start(batched().withUpdateContinuation(PlatformConfig.UpdateContinuation.RESTART));
        Begun b = prrnBegunOnTheSource();
        migrate("destination");

        // update-nodes starts over: the first record again, then the rest.
        RtasResult again = g.rtas(0, RtasService.UPDATE_NODES, b.nodes().workArea(), 0, -1);
        assertEquals(RtasStatus.CALL_AGAIN, again.status());
        assertEquals(List.of(Entry.update(PartitionTrees.cpuPhandle(0))), UpdateNodesWorkArea.decode(again.workArea()));
        assertEquals(List.of(Entry.update(PartitionTrees.cpuPhandle(0)), Entry.update(phandle(MEMORY)),
                Entry.update(phandle(VTY))), g.updateNodes(-1));

        // The memory node's continuation starts the node over, path descriptor first, with the whole value.
        List<String> names = new ArrayList<>();
        assertArrayEquals(BIG, regUntilDone(b.props().workArea(), names));
        assertEquals("", names.get(0), "a restarted node begins with its path descriptor");

        // Nodes fetched after the restart get the destination's values.
        byte[] assoc = g.updateProperties(PartitionTrees.cpuPhandle(0), -1, new ArrayList<>()).get("ibm,associativity");
        assertArrayEquals(PartitionTrees.associativity(rig.platform.system("destination"), 0), assoc);
        assertTrue(notes(PlatformConfig.UpdateContinuation.RESTART.traceNote) >= 2, "each restart is in the trace");
    }

    @Test
    void serveOldSystemGoesOnWithTheSourcesData() {
        start(batched().withUpdateContinuation(PlatformConfig.UpdateContinuation.SERVE_OLD_SYSTEM));
        Begun b = prrnBegunOnTheSource();
        migrate("destination");

        // update-nodes goes on from where it stopped.
        RtasResult next = g.rtas(0, RtasService.UPDATE_NODES, b.nodes().workArea(), 0, -1);
        assertEquals(RtasStatus.CALL_AGAIN, next.status());
        assertEquals(List.of(Entry.update(phandle(MEMORY))), UpdateNodesWorkArea.decode(next.workArea()));

        // The memory node goes on with the pieces it had not sent yet.
        List<String> names = new ArrayList<>();
        b.memorySoFar().writeBytes(regUntilDone(b.props().workArea(), names));
        assertArrayEquals(BIG, b.memorySoFar().toByteArray());
        assertNotEquals("", names.get(0), "a continued node does not start over");

        // A node first fetched now still gets the source's value: the PRRN's associativity, not the destination's.
        byte[] assoc = g.updateProperties(PartitionTrees.cpuPhandle(0), -1, new ArrayList<>()).get("ibm,associativity");
        assertArrayEquals(PRRN_ASSOC, assoc);
        assertTrue(notes(PlatformConfig.UpdateContinuation.SERVE_OLD_SYSTEM.traceNote) >= 3);

        // A fresh sequence is the destination's own.
        assertArrayEquals(PartitionTrees.associativity(rig.platform.system("destination"), 0),
                freshAssociativity());
    }

    private byte[] freshAssociativity() {
        g.updateNodes(-1);
        return g.updateProperties(PartitionTrees.cpuPhandle(0), -1, new ArrayList<>()).get("ibm,associativity");
    }

    @Test
    void serveOldSystemRemembersOnlyTheSystemLastLeft() {
        PlatformConfig two = Rig.config(batched().withUpdateContinuation(
                PlatformConfig.UpdateContinuation.SERVE_OLD_SYSTEM), PlatformConfig.Limits.DEFAULT);
        List<PlatformConfig.SystemConfig> systems = new ArrayList<>(two.systems());
        systems.add(PlatformConfig.SystemConfig.named("third", 2));
        rig = new Rig(new PlatformConfig(systems, two.partitions(), two.partitionDefaults(), two.hypervisor(),
                two.limits()));
        g = rig.guest("lpar1");
        Begun b = prrnBegunOnTheSource();
        migrate("destination");
        migrate("third");
        assertEquals(RtasStatus.PARAMETER_ERROR, g.rtas(0, RtasService.UPDATE_NODES, b.nodes().workArea(), 0, -1)
                .status());
        assertEquals(RtasStatus.PARAMETER_ERROR, g.rtas(0, RtasService.UPDATE_PROPERTIES, b.props().workArea(), 0, -1)
                .status());
    }

    @Test
    void configureConnectorContinuationsStayBoundToTheirSystemWhateverTheUpdateOption() {
        start(PlatformConfig.HypervisorOptions.DEFAULT.withUpdateContinuation(
                PlatformConfig.UpdateContinuation.RESTART));
        RtasResult first = g.rtas(0, RtasService.CONFIGURE_CONNECTOR,
                ConfigureConnectorWorkArea.initial(PartitionTrees.CPU_DRC_BASE + 1), 0, 0);
        assertEquals(RtasStatus.CC_NEXT_CHILD, first.status());
        migrate("destination");
        assertEquals(RtasStatus.PARAMETER_ERROR, g.rtas(0, RtasService.CONFIGURE_CONNECTOR, first.workArea(), 0, 0)
                .status());
    }

    // ---------------------------------------------------------------------------------------------------
    // ibm,configure-connector busy and extended delay

    @Test
    void configureConnectorAnswersTheConfiguredDelayBeforeEveryStep() {
        for (int delay : new int[] {RtasStatus.BUSY, RtasStatus.EXTENDED_DELAY_MIN + 2}) {
            start(PlatformConfig.HypervisorOptions.DEFAULT.withConfigureConnectorDelayStatus(delay));
            ConfigureConnectorWorkArea.Assembler asm = new ConfigureConnectorWorkArea.Assembler();
            byte[] wa = ConfigureConnectorWorkArea.initial(PartitionTrees.CPU_DRC_BASE + 1);
            int delays = 0;
            int steps = 0;
            boolean expectDelay = true;
            while (true) {
                RtasResult r = g.rtas(0, RtasService.CONFIGURE_CONNECTOR, wa, 0, 0);
                wa = r.workArea();
                if (expectDelay) {
                    assertEquals(delay, r.status(), "a delay before step " + steps);
                    assertNotEquals(0, ConfigureConnectorWorkArea.state(wa), "the delayed work area names the cursor");
                    delays++;
                    expectDelay = false;
                    continue;
                }
                steps++;
                expectDelay = true;
                if (asm.accept(ConfigureConnectorWorkArea.decodeStep(r.status(), wa))) {
                    break;
                }
            }
            assertEquals(steps, delays);
            assertArrayEquals(DeviceTree.cells(PartitionTrees.CPU_DRC_BASE + 1),
                    asm.result().property("ibm,my-drc-index"));
            rig.close();
        }
        rig = null;
    }

    @Test
    void theGuestCallsConfigureConnectorAgainThroughBusyAndExtendedDelays() {
        start(PlatformConfig.HypervisorOptions.DEFAULT.withConfigureConnectorDelayStatus(
                RtasStatus.EXTENDED_DELAY_MIN + 1));
        rig.platform.addFault(new FaultRule(FaultMatch.rtas(RtasService.CONFIGURE_CONNECTOR).partition("lpar1").times(2),
                new FaultAction.ReturnStatus(RtasStatus.BUSY, null, When.BEFORE)));
        KernelCalls calls = KernelCalls.threaded(g.port, new SystemGuestClock(0.001));
        try {
            DeviceTreeUpdate update = new DeviceTreeUpdate(calls, new GuestDeviceTree(g.port.bootInfo().deviceTree()));
            ConfigureConnectorWorkArea.CcNode node = update.dlparConfigureConnector(PartitionTrees.CPU_DRC_BASE + 1);
            assertNotNull(node, "busy and extended delay are not errors");
            assertArrayEquals(DeviceTree.cells(PartitionTrees.CPU_DRC_BASE + 1), node.property("ibm,my-drc-index"));
        } finally {
            calls.machine().close();
        }
        List<Long> statuses = rig.platform.trace().read(0, 100_000, "lpar1").records().stream()
                .filter(r -> r.kind() == TraceKind.CALL_END && r.name().equals(RtasService.CONFIGURE_CONNECTOR))
                .map(r -> r.status()).toList();
        assertEquals(List.of((long) RtasStatus.BUSY, (long) RtasStatus.BUSY), statuses.subList(0, 2),
                "the injected busy answers came first");
        long delays = statuses.stream().filter(st -> st == RtasStatus.EXTENDED_DELAY_MIN + 1).count();
        long steps = statuses.stream().filter(st -> st >= RtasStatus.CC_COMPLETE && st <= RtasStatus.CC_PREV_PARENT)
                .count();
        assertEquals(steps, delays, "one extended delay before every step");
        assertEquals(statuses.size(), 2 + delays + steps, "nothing else: no call was treated as an error");
    }

    @Test
    void aDelayStatusOtherThanBusyOrExtendedDelayIsABadSpec() {
        ControlException e = assertThrows(ControlException.class,
                () -> PlatformConfig.HypervisorOptions.DEFAULT.withConfigureConnectorDelayStatus(1));
        assertEquals(ControlError.BAD_SPEC, e.code());
    }

    // ---------------------------------------------------------------------------------------------------
    // window states: suspend refusal and credits

    /** Every vCPU but 3 in H_JOIN after Migrate; returns ibm,suspend-me's answer from vCPU 3. */
    private int suspendAttempt() {
        rig.platform.migrate("lpar1", "");
        g.joinAllBut(3);
        return Rig.await(g.rtasAsync(3, RtasService.SUSPEND_ME, null)).status();
    }

    private long closeByModify(long winId) {
        return g.hcall(g.self, Hcall.H_MODIFY_VAS_WINDOW, winId, 0, 0, Vas.MOD_WIN_CLOSE, 0).status();
    }

    @Test
    void byDefaultAWindowInAnyStateRefusesTheSuspend() {
        start(PlatformConfig.HypervisorOptions.DEFAULT);
        assertEquals(HStatus.H_SUCCESS, closeByModify(g.openWindow(Vas.WIN_TYPE_DEFAULT)));
        assertEquals(RtasStatus.OUTSTANDING_COPROC, suspendAttempt());
    }

    @Test
    void windowsInAStateLeftOutOfSuspendBlockingStatesDoNotRefuseAndAreDroppedAtResume() {
        start(PlatformConfig.HypervisorOptions.DEFAULT.withSuspendBlockingStates(
                EnumSet.of(PlatformConfig.WindowState.ACTIVE, PlatformConfig.WindowState.MODIFY_IN_PROCESS)));
        long closed = g.openWindow(Vas.WIN_TYPE_DEFAULT);
        assertEquals(HStatus.H_SUCCESS, closeByModify(closed));
        long allocated = g.allocate(Vas.WIN_TYPE_DEFAULT).ret(0);
        assertEquals(RtasStatus.SUCCESS, suspendAttempt(), "a closed and an allocated window let the suspend through");
        assertEquals("destination", rig.state("lpar1").system());
        assertEquals(List.of(), rig.state("lpar1").windows());
        assertEquals(1, notes("windows dropped at resume"));
        assertEquals(HStatus.H_PARAMETER, g.deallocate(allocated), "the source's windows mean nothing here");
    }

    @Test
    void anActiveWindowStillRefusesWhenActiveIsABlockingState() {
        start(PlatformConfig.HypervisorOptions.DEFAULT.withSuspendBlockingStates(
                EnumSet.of(PlatformConfig.WindowState.ACTIVE)));
        g.openWindow(Vas.WIN_TYPE_DEFAULT);
        assertEquals(RtasStatus.OUTSTANDING_COPROC, suspendAttempt());
    }

    @Test
    void creditsOfAWindowWhoseModifyIsInFlightCountOnlyWhenConfigured() {
        start(PlatformConfig.HypervisorOptions.DEFAULT.withCreditHoldingStates(EnumSet.of(
                PlatformConfig.WindowState.ALLOCATED, PlatformConfig.WindowState.ACTIVE,
                PlatformConfig.WindowState.CLOSED)));
        // lpar1 has 3 QoS credits.
        long first = g.allocate(Vas.WIN_TYPE_QOS).ret(0);
        g.allocate(Vas.WIN_TYPE_QOS);
        g.allocate(Vas.WIN_TYPE_QOS);
        assertEquals(HStatus.H_CONSTRAINED, g.hcall(0, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_QOS, 1,
                Vas.DEFAULT_DOMAIN_ID).status());

        rig.platform.addFault(new FaultRule(FaultMatch.hcall(Hcall.H_MODIFY_VAS_WINDOW).partition("lpar1"),
                new FaultAction.Hold("modify", When.BEFORE)));
        CompletableFuture<HcallResult> modify = g.port.hcallAsync(1, Hcall.H_MODIFY_VAS_WINDOW,
                new long[] {first, 42, 0, Vas.MOD_WIN_FLAGS, 0}, null);
        Rig.await(rig.platform.awaitHold("modify", 1, 5000));
        assertEquals(HStatus.H_SUCCESS, g.hcall(0, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_QOS, 1,
                Vas.DEFAULT_DOMAIN_ID).status(), "the window being modified holds no credit under this option");
        assertEquals(4, rig.state("lpar1").windows().size());

        rig.platform.holds().release("modify", 0);
        assertEquals(HStatus.H_SUCCESS, Rig.await(modify).status());
        assertEquals(HStatus.H_CONSTRAINED, g.hcall(0, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_QOS, 1,
                Vas.DEFAULT_DOMAIN_ID).status(), "active again, it holds its credit");
    }

    @Test
    void closedWindowsGiveTheirCreditsBackWhenClosedIsNotAHoldingState() {
        start(PlatformConfig.HypervisorOptions.DEFAULT.withCreditHoldingStates(EnumSet.of(
                PlatformConfig.WindowState.ALLOCATED, PlatformConfig.WindowState.MODIFY_IN_PROCESS,
                PlatformConfig.WindowState.ACTIVE)));
        long a = g.openWindow(Vas.WIN_TYPE_QOS);
        g.openWindow(Vas.WIN_TYPE_QOS);
        g.openWindow(Vas.WIN_TYPE_QOS);
        assertEquals(HStatus.H_CONSTRAINED, g.hcall(0, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_QOS, 1,
                Vas.DEFAULT_DOMAIN_ID).status());
        assertEquals(HStatus.H_SUCCESS, closeByModify(a));
        assertEquals(HStatus.H_SUCCESS, g.hcall(0, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_QOS, 1,
                Vas.DEFAULT_DOMAIN_ID).status());
    }

    @Test
    void byDefaultEveryWindowHoldsItsCredits() {
        start(PlatformConfig.HypervisorOptions.DEFAULT);
        long a = g.openWindow(Vas.WIN_TYPE_QOS);
        g.openWindow(Vas.WIN_TYPE_QOS);
        g.allocate(Vas.WIN_TYPE_QOS);
        assertEquals(HStatus.H_SUCCESS, closeByModify(a));
        assertEquals(HStatus.H_CONSTRAINED, g.hcall(0, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_QOS, 1,
                Vas.DEFAULT_DOMAIN_ID).status());
    }
}
