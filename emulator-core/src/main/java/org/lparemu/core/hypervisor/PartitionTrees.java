package org.lparemu.core.hypervisor;

import java.util.List;
import org.lparemu.core.papr.Associativity;
import org.lparemu.core.port.DeviceTree;

/**
 * Builds the device tree a managed system presents to a partition it hosts.
 *
 * <p>The tree has two kinds of content (prrn-model.md): properties that belong to the system (the system's
 * overlay, and each core's {@code ibm,associativity}, derived from the system's NUMA domains) and everything
 * else, which belongs to the partition and travels with it on migration.
 */
public final class PartitionTrees {
    /** DRC index of core i: the CPU DRC type 0x10000000 plus the core number. */
    public static final int CPU_DRC_BASE = 0x10000000;
    /** Scans per minute the tree asks the OS for when event-scan delivers events (one a second). */
    public static final int EVENT_SCAN_RATE = 60;

    private PartitionTrees() {
    }

    /** Path of core i's node: its unit address is its first thread's id, {@code core * threadsPerCore}. */
    public static String cpuPath(int core, int threadsPerCore) {
        return "/cpus/PowerPC,POWER10@" + Integer.toHexString(core * threadsPerCore);
    }

    /** Phandle of core i's node (stable across systems, so update-nodes records mean the same node). */
    public static int cpuPhandle(int core) {
        return 0x1000 + core;
    }

    /** The full tree for a partition with {@code cores} cores on {@code system}, without event-scan. */
    public static DeviceTree build(String partitionName, int cores, int threadsPerCore, int qosCredits,
                                   ManagedSystem system) {
        return build(partitionName, cores, threadsPerCore, qosCredits, system, false);
    }

    /**
     * The full tree for a partition with {@code cores} cores on {@code system}; with {@code eventScan}, /rtas offers
     * event-scan and asks for {@link #EVENT_SCAN_RATE} scans a minute ({@code rtas-event-scan-rate}), which is how
     * the OS learns that events reach it as RTAS event logs.
     */
    public static DeviceTree build(String partitionName, int cores, int threadsPerCore, int qosCredits,
                                   ManagedSystem system, boolean eventScan) {
        DeviceTree t = new DeviceTree();
        t.setProperty("/", "name", DeviceTree.string(""));
        t.setProperty("/", "ibm,partition-name", DeviceTree.string(partitionName));
        t.setProperty("/", "ibm,architecture-vec-5", DeviceTree.cells(0x05000000));
        t.addNode("/cpus", 2, 0);
        t.setProperty("/cpus", "#address-cells", DeviceTree.cells(1));
        t.setProperty("/cpus", "#size-cells", DeviceTree.cells(0));
        for (int i = 0; i < cores; i++) {
            addCpu(t, i, threadsPerCore, system);
        }
        t.addNode("/memory@0", 3, 0);
        t.setProperty("/memory@0", "device_type", DeviceTree.string("memory"));
        t.setProperty("/memory@0", "reg", DeviceTree.cells(0, 0, 0, 0x40000000));
        t.addNode("/ibm,dynamic-reconfiguration-memory", 4, 0);
        t.setProperty("/ibm,dynamic-reconfiguration-memory", "ibm,lmb-size", DeviceTree.cells(0, 0x10000000));
        t.setProperty("/ibm,dynamic-reconfiguration-memory", "ibm,dynamic-memory",
                DeviceTree.cells(4, 0, 0x80000000, 0, 0, 0, 0x8, 0, 0x10000000, 0x80000001, 0, 0, 0x8,
                        0, 0x20000000, 0x80000002, 0, 0, 0x8, 0, 0x30000000, 0x80000003, 0, 0, 0x8));
        t.addNode("/rtas", 5, 0);
        t.setProperty("/rtas", "ibm,suspend-me", DeviceTree.cells(0x2001));
        t.setProperty("/rtas", "ibm,update-nodes", DeviceTree.cells(0x2002));
        t.setProperty("/rtas", "ibm,update-properties", DeviceTree.cells(0x2003));
        t.setProperty("/rtas", "ibm,activate-firmware", DeviceTree.cells(0x2004));
        t.setProperty("/rtas", "ibm,configure-connector", DeviceTree.cells(0x2005));
        t.setProperty("/rtas", "get-sensor-state", DeviceTree.cells(0x2006));
        t.setProperty("/rtas", "set-indicator", DeviceTree.cells(0x2007));
        // Form 1 affinity: the first associativity domain after the count is the NUMA node.
        t.setProperty("/rtas", Associativity.REFERENCE_POINTS, DeviceTree.cells(1, 2));
        if (eventScan) {
            t.setProperty("/rtas", "event-scan", DeviceTree.cells(0x2008));
            t.setProperty("/rtas", "rtas-event-scan-rate", DeviceTree.cells(EVENT_SCAN_RATE));
        }
        t.addNode("/ibm,platform-facilities", 6, 0);
        t.addNode("/ibm,platform-facilities/ibm,compression-v1", 7, 0);
        t.setProperty("/ibm,platform-facilities/ibm,compression-v1", "compatible",
                DeviceTree.string("ibm,compression-v1"));
        t.setProperty("/ibm,platform-facilities/ibm,compression-v1", "ibm,qos-credits",
                DeviceTree.cells(qosCredits));
        t.addNode("/vdevice", 8, 0);
        t.addNode("/vdevice/vty@30000000", 9, 0);
        t.setProperty("/vdevice/vty@30000000", "compatible", DeviceTree.string("hvterm1"));
        applyOverlay(t, system);
        return t;
    }

    /** Adds core i's node with its system-specific associativity. */
    public static void addCpu(DeviceTree t, int core, int threadsPerCore, ManagedSystem system) {
        String path = cpuPath(core, threadsPerCore);
        t.addNode(path, cpuPhandle(core), CPU_DRC_BASE + core);
        t.setProperty(path, "device_type", DeviceTree.string("cpu"));
        t.setProperty(path, "reg", DeviceTree.cells(core * threadsPerCore));
        int[] servers = new int[threadsPerCore];
        for (int j = 0; j < threadsPerCore; j++) {
            servers[j] = core * threadsPerCore + j;
        }
        t.setProperty(path, "ibm,ppc-interrupt-server#s", DeviceTree.cells(servers));
        t.setProperty(path, "ibm,my-drc-index", DeviceTree.cells(CPU_DRC_BASE + core));
        t.setProperty(path, "ibm,associativity", associativity(system, core));
    }

    /** Core i's associativity on a system: (count, domain, chip, core, core). */
    public static byte[] associativity(ManagedSystem system, int core) {
        int base = system.config().numaDomainBase();
        return DeviceTree.cells(4, base, base + core / 4, base * 64 + core, base * 64 + core);
    }

    /**
     * The tree the destination presents to a partition arriving with {@code current}: the same tree (the
     * partition's content travels with it) with every system-specific property replaced by the
     * destination's: the source's overlay properties removed, each core's ibm,associativity recomputed
     * for the destination (cores are known by their CPU DRC index), then the destination's overlay applied.
     * {@code current} is not modified.
     */
    public static DeviceTree forDestination(DeviceTree current, ManagedSystem source, ManagedSystem destination) {
        DeviceTree t = current.copy();
        for (DeviceTree.Node n : List.copyOf(t.nodes())) {
            for (String name : List.copyOf(n.properties().keySet())) {
                boolean cpuAssociativity = n.path().startsWith("/cpus/") && name.equals("ibm,associativity");
                if (!cpuAssociativity && systemSpecific(source, n.path(), name)) {
                    t.deleteProperty(n.path(), name);
                }
            }
            int core = n.drcIndex() - CPU_DRC_BASE;
            if (n.path().startsWith("/cpus/") && core >= 0 && core < PartitionSpec.MAX_CORES * 16
                    && n.properties().containsKey("ibm,associativity")) {
                t.setProperty(n.path(), "ibm,associativity", associativity(destination, core));
            }
        }
        applyOverlay(t, destination);
        return t;
    }

    /** True when a property belongs to the system rather than the partition (replaced on migration). */
    public static boolean systemSpecific(ManagedSystem system, String path, String property) {
        if (path.startsWith("/cpus/") && property.equals("ibm,associativity")) {
            return true;
        }
        for (PlatformConfig.OverlayProperty o : system.config().deviceTreeOverlay()) {
            if (o.name().equals(property) && pathMatches(o.path(), path)) {
                return true;
            }
        }
        return false;
    }

    /** Sets every overlay property of the system on the nodes its path matches. */
    public static void applyOverlay(DeviceTree t, ManagedSystem system) {
        for (PlatformConfig.OverlayProperty o : system.config().deviceTreeOverlay()) {
            for (DeviceTree.Node n : List.copyOf(t.nodes())) {
                if (pathMatches(o.path(), n.path())) {
                    t.setProperty(n.path(), o.name(), o.value());
                }
            }
        }
    }

    /** "*" matches exactly one path component. */
    static boolean pathMatches(String pattern, String path) {
        if (!pattern.contains("*")) {
            return pattern.equals(path);
        }
        String[] p = pattern.split("/", -1);
        String[] q = path.split("/", -1);
        if (p.length != q.length) {
            return false;
        }
        for (int i = 0; i < p.length; i++) {
            if (!p[i].equals("*") && !p[i].equals(q[i])) {
                return false;
            }
        }
        return true;
    }
}
