package org.lparemu.core.hypervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.UpdateNodesWorkArea;
import org.lparemu.core.papr.UpdatePropertiesWorkArea;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.port.DeviceTree;
import org.lparemu.core.port.HcallResult;
import org.lparemu.core.port.PlatformEvent;
import org.lparemu.core.port.RtasResult;

/**
 * A real Platform on manual time, with two systems whose content differs ("source": 20 credits per core;
 * "destination": 10), and two partitions: lpar1 (4 vCPUs, 2 cores, 3 QoS credits) and lpar2 (2 vCPUs,
 * 1 core). Tests talk to it as guests do, through {@link Guest}.
 */
final class Rig implements AutoCloseable {
    static final long BUF = 0x10000; // a 4 KiB aligned guest buffer address
    static final long WAIT_S = 10;

    final ManualScheduler clock = new ManualScheduler();
    final Platform platform;

    Rig() {
        this(PlatformConfig.HypervisorOptions.DEFAULT);
    }

    Rig(PlatformConfig.HypervisorOptions options) {
        this(config(options, PlatformConfig.Limits.DEFAULT));
    }

    Rig(PlatformConfig config) {
        platform = new Platform(config, clock);
    }

    static PlatformConfig config(PlatformConfig.HypervisorOptions options, PlatformConfig.Limits limits) {
        PlatformConfig.SystemConfig src = PlatformConfig.SystemConfig.named("source", 0);
        PlatformConfig.SystemConfig d = PlatformConfig.SystemConfig.named("destination", 1);
        PlatformConfig.SystemConfig dst = new PlatformConfig.SystemConfig(d.name(), 10, d.maxLparCredits(),
                d.maxWindowCredits(), d.qosFeature(), d.userModeCopyPaste(), d.nxReqMaxProcessedLen(),
                d.nxMinCompressLen(), d.nxMinDecompressLen(), d.pasteAddressBase(), d.numaDomainBase(),
                d.deviceTreeOverlay());
        return new PlatformConfig(List.of(src, dst),
                List.of(new PartitionSpec("lpar1", 4, 2, false, 3, null), new PartitionSpec("lpar2", 2, 1, false, 0, null)),
                PlatformConfig.PartitionDefaults.DEFAULT, options, limits);
    }

    static PlatformConfig.HypervisorOptions options(PlatformConfig.SuspendWithWindows mode, long readyMs,
                                                    long blackoutMs, long transferMs, long timeoutMs) {
        PlatformConfig.HypervisorOptions o = PlatformConfig.HypervisorOptions.DEFAULT;
        return new PlatformConfig.HypervisorOptions(mode, o.suspendRefusalStatus(), o.overCreditStatus(), readyMs,
                blackoutMs, transferMs, timeoutMs, o.updateNodesBatch(), o.updatePropertiesBytes());
    }

    Guest guest(String partition) {
        return new Guest(this, new InProcessPort(platform, partition));
    }

    PartitionView state(String partition) {
        return platform.getState(partition);
    }

    static <T> T await(CompletableFuture<T> f) {
        try {
            return f.get(WAIT_S, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("did not complete: " + e, e);
        }
    }

    @Override
    public void close() {
        platform.close();
        clock.shutdownNow();
    }

    /** One guest connection, with helpers named after what the kernel does. */
    static final class Guest {
        final Rig rig;
        final InProcessPort port;
        final LinkedBlockingQueue<PlatformEvent> events = new LinkedBlockingQueue<>();
        /** The vCPU the helpers below call from; {@link #joinAllBut} moves it to the vCPU left running. */
        int self;

        Guest(Rig rig, InProcessPort port) {
            this.rig = rig;
            this.port = port;
            port.setEventListener(events::add);
        }

        /** One hcall; H_JOIN is made with interrupts disabled, as a kernel makes it from stop_machine. */
        HcallResult hcall(int vcpu, long opcode, long... args) {
            return port.hcall(vcpu, opcode, args, null, opcode == Hcall.H_JOIN);
        }

        CompletableFuture<HcallResult> hcallAsync(int vcpu, long opcode, long... args) {
            return port.hcallAsync(vcpu, opcode, args, null, opcode == Hcall.H_JOIN);
        }

        /** One hcall with MSR[EE]=1, whatever the call. */
        HcallResult hcallInterruptsOn(int vcpu, long opcode, long... args) {
            return port.hcall(vcpu, opcode, args, null, false);
        }

        RtasResult rtas(int vcpu, String service, byte[] workArea, long... args) {
            return port.rtas(vcpu, service, args, workArea);
        }

        CompletableFuture<RtasResult> rtasAsync(int vcpu, String service, byte[] workArea, long... args) {
            return port.rtasAsync(vcpu, service, args, workArea);
        }

        /** H_ALLOCATE_VAS_WINDOW with one credit and the default domain; asserts success; returns the rets. */
        HcallResult allocate(int winType) {
            HcallResult r = hcall(self, Hcall.H_ALLOCATE_VAS_WINDOW, winType, 1, Vas.DEFAULT_DOMAIN_ID);
            assertEquals(HStatus.H_SUCCESS, r.status(), "allocate " + r);
            return r;
        }

        /** allocate + modify: an ACTIVE window; returns its id. */
        long openWindow(int winType) {
            long id = allocate(winType).ret(0);
            assertEquals(HStatus.H_SUCCESS, hcall(self, Hcall.H_MODIFY_VAS_WINDOW, id, 42, 0, Vas.MOD_WIN_FLAGS, 0).status());
            return id;
        }

        long deallocate(long winId) {
            return hcall(self, Hcall.H_DEALLOCATE_VAS_WINDOW, winId).status();
        }

        Vas.CopFeatCaps caps(int queryType) {
            HcallResult r = hcall(self, Hcall.H_QUERY_VAS_CAPABILITIES, queryType, BUF);
            assertEquals(HStatus.H_SUCCESS, r.status());
            return Vas.CopFeatCaps.decode(r.buffer());
        }

        long vasiState(long stream) {
            HcallResult r = hcall(self, Hcall.H_VASI_STATE, stream);
            assertEquals(HStatus.H_SUCCESS, r.status(), "H_VASI_STATE " + r);
            return r.ret(0);
        }

        /**
         * Every vCPU but {@code last} calls H_JOIN (each stays parked) and the helpers go on from {@code last},
         * the only vCPU still able to make a call; returns the parked calls.
         */
        List<CompletableFuture<HcallResult>> joinAllBut(int last) {
            self = last;
            List<CompletableFuture<HcallResult>> out = new ArrayList<>();
            for (int v = 0; v < port.bootInfo().vcpus(); v++) {
                if (v != last) {
                    out.add(hcallAsync(v, Hcall.H_JOIN));
                }
            }
            return out;
        }

        PlatformEvent nextEvent() {
            try {
                PlatformEvent e = events.poll(WAIT_S, TimeUnit.SECONDS);
                if (e == null) {
                    throw new AssertionError("no platform event arrived");
                }
                return e;
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }

        /** ibm,update-nodes from a zeroed work area until done; the entries of every call, in order. */
        List<UpdateNodesWorkArea.Entry> updateNodes(int scope) {
            List<UpdateNodesWorkArea.Entry> out = new ArrayList<>();
            byte[] wa = new byte[RtasService.WORK_AREA_SIZE];
            while (true) {
                RtasResult r = rtas(self, RtasService.UPDATE_NODES, wa, 0x1000, scope);
                if (r.status() != 0 && r.status() != 1) {
                    throw new AssertionError("ibm,update-nodes(" + scope + ") status " + r.status());
                }
                wa = r.workArea();
                out.addAll(UpdateNodesWorkArea.decode(wa));
                if (r.status() == 0) {
                    return out;
                }
            }
        }

        /** ibm,update-properties for one node until done; the descriptors after the path, partials joined. */
        Map<String, byte[]> updateProperties(int phandle, int scope, List<String> deleted) {
            Map<String, byte[]> props = new TreeMap<>();
            byte[] wa = UpdatePropertiesWorkArea.initial(phandle);
            ByteArrayOutputStream partial = new ByteArrayOutputStream();
            while (true) {
                RtasResult r = rtas(self, RtasService.UPDATE_PROPERTIES, wa, 0x1000, scope);
                if (r.status() != 0 && r.status() != 1) {
                    throw new AssertionError("ibm,update-properties status " + r.status());
                }
                wa = r.workArea();
                for (var d : UpdatePropertiesWorkArea.decode(wa).descriptors()) {
                    if (d.name().isEmpty()) {
                        continue;
                    }
                    if (d.isDelete()) {
                        deleted.add(d.name());
                    } else if (d.isPartial()) {
                        partial.writeBytes(d.value());
                    } else if (d.isFull()) {
                        partial.writeBytes(d.value());
                        props.put(d.name(), partial.toByteArray());
                        partial.reset();
                    }
                }
                if (r.status() == 0) {
                    return props;
                }
            }
        }

        /** The node's properties as the platform's current tree has them. */
        Map<String, byte[]> platformNode(String path) {
            DeviceTree.Node n = rig.state(port.bootInfo().partition()).deviceTree().node(path);
            return new TreeMap<>(n.properties());
        }
    }
}
