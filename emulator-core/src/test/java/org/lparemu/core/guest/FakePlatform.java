package org.lparemu.core.guest;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.lparemu.core.papr.ConfigureConnectorWorkArea;
import org.lparemu.core.papr.ConfigureConnectorWorkArea.CcNode;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.papr.UpdateNodesWorkArea;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.papr.VasiState;
import org.lparemu.core.port.BootInfo;
import org.lparemu.core.port.DeviceTree;
import org.lparemu.core.port.HcallResult;
import org.lparemu.core.port.RtasResult;
import org.lparemu.core.port.ScriptedHcallPort;

/**
 * A small stateful platform behind a {@link ScriptedHcallPort}, for guest tests that need the calls to behave
 * like a hypervisor rather than be scripted one by one: VAS capabilities and windows (ids, paste addresses that
 * change with the system), pastes, VASI states, an H_JOIN/H_PROD rendezvous with PAPR's rules, ibm,suspend-me
 * (refusing while windows are open, like PowerVM is said to), configure-connector from registered subtrees. Tests
 * can still override any opcode with the port's scripts and handlers.
 *
 * <p>Where it models a call, it answers like the real {@code Platform} configured alike (same checks in the same
 * order, same capability fields): {@code FakePlatformDifferentialTest} runs the same call sequences against both.
 */
final class FakePlatform {
    static final int CPU0_DRC = 0x10000000;
    static final int CPUS_PHANDLE = 0x2;
    static final int CPU0_PHANDLE = 0x10;
    static final int CPU1_PHANDLE = 0x18;
    static final int VDEVICE_PHANDLE = 0x20;
    static final int VTY_PHANDLE = 0x21;
    static final int PLATFAC_PHANDLE = 0x30;
    static final int COMPRESSION_PHANDLE = 0x31;
    static final long STREAM = 0x5EED;

    /** A window as the fake hypervisor sees it. */
    record HvWindow(long winId, int winType, long pasteAddress, boolean modified, boolean closed) {
    }

    final ScriptedHcallPort port;
    final int vcpus;

    // VAS capabilities (tests may change them between calls).
    volatile boolean qosFeature = true;
    volatile boolean defaultFeature = true;
    volatile int qosTarget = 4;
    volatile int defaultTarget = 8;
    volatile int userMode = Vas.USER_MODE_COPY_PASTE;
    volatile int qosWinType = Vas.WIN_TYPE_QOS;
    volatile int defaultWinType = Vas.WIN_TYPE_DEFAULT;
    volatile int defaultMaxWinCreds = 1;
    volatile int qosMaxWinCreds = 1;
    /**
     * Whether windows hold their credits against the target, so that an allocation beyond it is refused
     * H_CONSTRAINED: the real platform's default; false is its {@code creditHoldingStates} left empty.
     */
    volatile boolean windowsHoldCredits = true;
    /** Both types' max_lpar_creds (the real platform reports its system's one value for both). */
    volatile int maxLparCreds = 640;

    // Windows.
    final Map<Long, HvWindow> windows = new ConcurrentHashMap<>();
    final AtomicLong nextWinId = new AtomicLong(100);
    /** Paste addresses are pasteBase + winId * 4 KiB; a migration moves to another base. */
    volatile long pasteBase = 0x6000_0000_0000L;
    final AtomicInteger pastes = new AtomicInteger();
    /** Counted down on every successful allocate / paste, for tests that wait for activity. */
    private volatile CountDownLatch allocateLatch = new CountDownLatch(0);
    private volatile CountDownLatch pasteLatch = new CountDownLatch(0);
    /** What the next allocate returns as paste address instead of the real one (the invalid-address quirk). */
    volatile Long pasteAddressOverride;

    // VASI and suspend.
    private final Deque<Long> vasiStates = new ArrayDeque<>();
    volatile int suspendStatus = RtasStatus.SUCCESS;
    volatile boolean refuseWithOpenWindows = true;
    final AtomicInteger suspendCalls = new AtomicInteger();
    final AtomicInteger migrations = new AtomicInteger();

    // H_JOIN rendezvous.
    private final Object joinLock = new Object();
    private final Set<Integer> joined = new HashSet<>();
    private final boolean[] pendingProd;

    // configure-connector subtrees by DRC index.
    final Map<Integer, CcNode> connectors = new ConcurrentHashMap<>();
    /** Connectors allocated to the OS (DR-entity sense PRESENT); those in {@link #connectors} only are UNUSABLE. */
    final Set<Integer> allocatedDrcs = ConcurrentHashMap.newKeySet();

    FakePlatform(int vcpus, boolean shared) {
        this.vcpus = vcpus;
        this.pendingProd = new boolean[vcpus];
        this.port = new ScriptedHcallPort(bootInfo(vcpus, shared));
        vasiStates(VasiState.SUSPENDING);
        install();
    }

    /** The destination maps windows elsewhere: paste addresses move by one system's range. */
    synchronized void movePasteBase() {
        pasteBase = pasteBase + 0x1000_0000_0000L;
    }

    FakePlatform() {
        this(4, false);
    }

    static BootInfo bootInfo(int vcpus, boolean shared) {
        return new BootInfo("lpar1", vcpus, "sysA", 2, shared, bootTree());
    }

    /** A small tree: /cpus with two cores of two threads, /vdevice with a vty, and the platform-facilities hierarchy. */
    static DeviceTree bootTree() {
        DeviceTree t = new DeviceTree();
        t.addNode("/cpus", CPUS_PHANDLE, 0);
        t.addNode("/cpus/PowerPC,POWER10@0", CPU0_PHANDLE, CPU0_DRC);
        t.setProperty("/cpus/PowerPC,POWER10@0", "ibm,ppc-interrupt-server#s", DeviceTree.cells(0, 1));
        t.setProperty("/cpus/PowerPC,POWER10@0", "ibm,associativity", DeviceTree.cells(4, 0, 0, 0, 0));
        t.addNode("/cpus/PowerPC,POWER10@2", CPU1_PHANDLE, CPU0_DRC + 1);
        t.setProperty("/cpus/PowerPC,POWER10@2", "ibm,ppc-interrupt-server#s", DeviceTree.cells(2, 3));
        t.setProperty("/cpus/PowerPC,POWER10@2", "ibm,associativity", DeviceTree.cells(4, 0, 0, 0, 1));
        t.addNode("/vdevice", VDEVICE_PHANDLE, 0);
        t.addNode("/vdevice/vty@30000000", VTY_PHANDLE, 0);
        t.setProperty("/vdevice/vty@30000000", "compatible", DeviceTree.string("hvterm1"));
        t.addNode("/ibm,platform-facilities", PLATFAC_PHANDLE, 0);
        t.setProperty("/ibm,platform-facilities", "device_type", DeviceTree.string("ibm,platform-facilities"));
        t.addNode("/ibm,platform-facilities/ibm,compression-v1", COMPRESSION_PHANDLE, 0);
        return t;
    }

    /** A core's configure-connector subtree, with the properties the guest uses. */
    static CcNode cpuNode(int coreIndex, int drcIndex, int phandle) {
        Map<String, byte[]> props = new LinkedHashMap<>();
        props.put("ibm,phandle", DeviceTree.cells(phandle));
        props.put("ibm,my-drc-index", DeviceTree.cells(drcIndex));
        props.put("ibm,ppc-interrupt-server#s", DeviceTree.cells(8 * coreIndex, 8 * coreIndex + 1));
        props.put("device_type", DeviceTree.string("cpu"));
        return new CcNode("PowerPC,POWER10@" + Integer.toHexString(8 * coreIndex), props, List.of());
    }

    /** The states H_VASI_STATE returns, one per poll; the last one repeats. */
    void vasiStates(VasiState... states) {
        synchronized (vasiStates) {
            vasiStates.clear();
            for (VasiState s : states) {
                vasiStates.add((long) s.code);
            }
        }
    }

    /** Makes the next H_JOIN of {@code vcpu} return at once, as a prod from unrelated code would. */
    void strayProd(int vcpu) {
        synchronized (joinLock) {
            pendingProd[vcpu] = true;
        }
    }

    /** A latch that opens after {@code n} more successful allocations. */
    CountDownLatch latchAllocations(int n) {
        allocateLatch = new CountDownLatch(n);
        return allocateLatch;
    }

    /** A latch that opens after {@code n} more successful pastes. */
    CountDownLatch latchPastes(int n) {
        pasteLatch = new CountDownLatch(n);
        return pasteLatch;
    }

    int windowsOpen() {
        return windows.size();
    }

    private void install() {
        port.on(Hcall.H_QUERY_VAS_CAPABILITIES, c -> queryCaps((int) c.arg(0), c.arg(1)));
        port.on(Hcall.H_ALLOCATE_VAS_WINDOW, c -> allocate((int) c.arg(0), c.arg(1)));
        port.on(Hcall.H_MODIFY_VAS_WINDOW, c -> modify(c.arg(0), c.arg(1), c.arg(2), c.arg(3)));
        port.on(Hcall.H_DEALLOCATE_VAS_WINDOW, c -> windows.remove(c.arg(0)) == null ? HcallResult.of(HStatus.H_PARAMETER)
                : HcallResult.success());
        port.on(Hcall.H_LPAREMU_NX_PASTE, c -> {
            if (c.arg(1) == 0) {
                return HcallResult.of(HStatus.H_PARAMETER);
            }
            for (HvWindow w : windows.values()) {
                if (w.pasteAddress() == c.arg(0) && w.modified() && !w.closed()) {
                    pastes.incrementAndGet();
                    pasteLatch.countDown();
                    return HcallResult.success();
                }
            }
            return HcallResult.of(HStatus.H_CLOSED);
        });
        port.on(Hcall.H_HOME_NODE_ASSOCIATIVITY, c -> HcallResult.success(0x11, 0x22, 0x33, 0x44, 0x55, 0x66));
        port.on(Hcall.H_VASI_STATE, c -> {
            if (c.arg(0) != STREAM) {
                return HcallResult.of(HStatus.H_PARAMETER);
            }
            synchronized (vasiStates) {
                long s = vasiStates.size() > 1 ? vasiStates.poll() : vasiStates.peek();
                return HcallResult.success(s);
            }
        });
        port.on(Hcall.H_VASI_SIGNAL, c -> HcallResult.success());
        port.on(Hcall.H_JOIN, c -> join(c.vcpu()));
        port.on(Hcall.H_PROD, c -> {
            if (c.arg(0) < 0 || c.arg(0) >= vcpus) {
                return HcallResult.of(HStatus.H_PARAMETER);
            }
            synchronized (joinLock) {
                pendingProd[(int) c.arg(0)] = true;
                joinLock.notifyAll();
            }
            return HcallResult.success();
        });
        port.onRtas(RtasService.SUSPEND_ME, c -> suspendMe());
        port.onRtas(RtasService.ACTIVATE_FIRMWARE, c -> RtasResult.of(RtasStatus.SUCCESS));
        port.onRtas(RtasService.UPDATE_NODES, c -> {
            byte[] wa = c.workArea().clone();
            UpdateNodesWorkArea.encodeEntries(wa, List.of());
            return RtasResult.withWorkArea(RtasStatus.SUCCESS, wa);
        });
        port.onRtas(RtasService.CONFIGURE_CONNECTOR, c -> configureConnector(c.workArea()));
        port.onRtas(RtasService.STOP_SELF, c -> RtasResult.of(RtasStatus.SUCCESS));
        port.onRtas(RtasService.START_CPU, c -> RtasResult.of(RtasStatus.SUCCESS));
        allocatedDrcs.add(CPU0_DRC);
        allocatedDrcs.add(CPU0_DRC + 1);
        port.onRtas(RtasService.GET_SENSOR_STATE, c -> {
            int drc = (int) c.arg(1);
            if (allocatedDrcs.contains(drc)) {
                return new RtasResult(RtasStatus.SUCCESS, new long[] {RtasService.DR_ENTITY_PRESENT}, null);
            }
            return connectors.containsKey(drc)
                    ? new RtasResult(RtasStatus.SUCCESS, new long[] {RtasService.DR_ENTITY_UNUSABLE}, null)
                    : RtasResult.of(RtasStatus.PARAMETER_ERROR);
        });
        port.onRtas(RtasService.SET_INDICATOR, c -> {
            if (c.arg(0) == RtasService.ALLOCATION_STATE) {
                if (c.arg(2) == RtasService.ALLOC_USABLE) {
                    allocatedDrcs.add((int) c.arg(1));
                } else {
                    allocatedDrcs.remove((int) c.arg(1));
                }
            }
            return RtasResult.of(RtasStatus.SUCCESS);
        });
    }

    private HcallResult queryCaps(int type, long pa) {
        if ((type != Vas.QUERY_OVERALL && type != Vas.QUERY_GZIP_QOS && type != Vas.QUERY_GZIP_DEFAULT)
                || (type == Vas.QUERY_GZIP_QOS && !qosFeature)) {
            return HcallResult.of(HStatus.H_PARAMETER);
        }
        if (pa == 0 || (pa & 0xFFF) != 0) {
            return HcallResult.of(HStatus.H_PRIVILEGE);
        }
        switch (type) {
            case Vas.QUERY_OVERALL -> {
                long feat = (qosFeature ? Vas.FEAT_GZIP_QOS : 0) | (defaultFeature ? Vas.FEAT_GZIP_DEFAULT : 0);
                return HcallResult.successWithBuffer(new Vas.AllCaps(Vas.DESCRIPTOR_OVERALL, feat).encode());
            }
            case Vas.QUERY_GZIP_QOS -> {
                return HcallResult.successWithBuffer(new Vas.CopFeatCaps(Vas.DESCRIPTOR_QOS, qosWinType, userMode, maxLparCreds,
                        qosMaxWinCreds, 0, qosTarget).encode());
            }
            case Vas.QUERY_GZIP_DEFAULT -> {
                return HcallResult.successWithBuffer(new Vas.CopFeatCaps(Vas.DESCRIPTOR_DEFAULT, defaultWinType, userMode,
                        maxLparCreds, defaultMaxWinCreds, defaultTarget, defaultTarget).encode());
            }
            default -> {
                return HcallResult.of(HStatus.H_PARAMETER);
            }
        }
    }

    /** The real platform's checks, in its order; a window holds its credits until it is deallocated. */
    private synchronized HcallResult allocate(int winType, long credits) {
        if ((winType != Vas.WIN_TYPE_QOS && winType != Vas.WIN_TYPE_DEFAULT) || (winType == Vas.WIN_TYPE_QOS && !qosFeature)) {
            return HcallResult.of(HStatus.H_PARAMETER);
        }
        if (credits < 1 || credits > (winType == Vas.WIN_TYPE_QOS ? qosMaxWinCreds : defaultMaxWinCreds)) {
            return HcallResult.of(HStatus.H_P2);
        }
        if (userMode != Vas.USER_MODE_COPY_PASTE) {
            return HcallResult.of(HStatus.H_COP_HW);
        }
        long held = windowsHoldCredits ? windows.values().stream().filter(w -> w.winType() == winType).count() : 0;
        if (held + credits > (winType == Vas.WIN_TYPE_QOS ? qosTarget : defaultTarget)) {
            return HcallResult.of(HStatus.H_CONSTRAINED);
        }
        long id = nextWinId.incrementAndGet();
        long paste = pasteBase + id * 0x1000;
        Long override = pasteAddressOverride;
        if (override != null) {
            pasteAddressOverride = null;
            paste = override;
        }
        windows.put(id, new HvWindow(id, winType, paste, false, false));
        allocateLatch.countDown();
        return HcallResult.success(id, paste, 0x1000 + id, 0x2000 + id);
    }

    /**
     * The real platform's checks: unknown window, then (unless closing) pid and tid, then unknown flags. CLOSE
     * closes the window for pastes; a closed window cannot be modified open again (H_STATE).
     */
    private synchronized HcallResult modify(long winId, long pid, long tid, long flags) {
        HvWindow w = windows.get(winId);
        if (w == null) {
            return HcallResult.of(HStatus.H_PARAMETER);
        }
        boolean close = (flags & Vas.MOD_WIN_CLOSE) != 0;
        if (!close && (pid == 0 || (pid >>> 32) != 0)) {
            return HcallResult.of(HStatus.H_P2);
        }
        if (!close && (tid >>> 32) != 0) {
            return HcallResult.of(HStatus.H_P3);
        }
        if ((flags & ~Vas.MOD_WIN_KNOWN_FLAGS) != 0) {
            return HcallResult.of(HStatus.H_P4);
        }
        if (!close && w.closed()) {
            return HcallResult.of(HStatus.H_STATE);
        }
        windows.put(winId, new HvWindow(winId, w.winType(), w.pasteAddress(), !close || w.modified(), close));
        return HcallResult.success();
    }

    private HcallResult join(int vcpu) throws InterruptedException {
        synchronized (joinLock) {
            if (pendingProd[vcpu]) {
                pendingProd[vcpu] = false;
                return HcallResult.success();
            }
            if (joined.size() == vcpus - 1) {
                return HcallResult.of(HStatus.H_CONTINUE);
            }
            joined.add(vcpu);
            try {
                while (!pendingProd[vcpu]) {
                    joinLock.wait();
                }
            } finally {
                joined.remove(vcpu);
            }
            pendingProd[vcpu] = false;
            return HcallResult.success();
        }
    }

    private RtasResult suspendMe() {
        suspendCalls.incrementAndGet();
        if (refuseWithOpenWindows && !windows.isEmpty()) {
            return RtasResult.of(RtasStatus.OUTSTANDING_COPROC);
        }
        int status = suspendStatus;
        if (status == RtasStatus.SUCCESS) {
            migrations.incrementAndGet();
            movePasteBase();
            vasiStates(VasiState.RESUMED, VasiState.COMPLETED);
        }
        return RtasResult.of(status);
    }

    private RtasResult configureConnector(byte[] wa) {
        int drc = ConfigureConnectorWorkArea.drcIndex(wa);
        CcNode node = connectors.get(drc);
        if (node == null) {
            return RtasResult.of(RtasStatus.HARDWARE_ERROR);
        }
        List<ConfigureConnectorWorkArea.Step> steps = ConfigureConnectorWorkArea.steps(node);
        int state = ConfigureConnectorWorkArea.state(wa);
        byte[] out = wa.clone();
        ConfigureConnectorWorkArea.Step step = steps.get(state);
        ConfigureConnectorWorkArea.encodeStep(out, step);
        ConfigureConnectorWorkArea.setState(out, state + 1);
        return RtasResult.withWorkArea(step.status(), out);
    }
}
