package org.lparemu.core.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lparemu.core.hypervisor.InProcessPort;
import org.lparemu.core.hypervisor.ManualScheduler;
import org.lparemu.core.hypervisor.PartitionSpec;
import org.lparemu.core.hypervisor.Platform;
import org.lparemu.core.hypervisor.PlatformConfig;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.port.HcallPort;
import org.lparemu.core.port.HcallResult;

/**
 * Keeps {@link FakePlatform}, the hand-written hypervisor most guest tests run on, in agreement with the real
 * {@link Platform}: the same hcall sequences go to both, configured alike (4 vCPUs, 2 cores of 4 Default credits,
 * 4 QoS credits, one credit per window, with and without the QoS feature and credit holding), and every call must
 * give the same status and the same outputs. Outputs that are the platform's own choice are compared by what they mean: window ids and
 * paste addresses as "the k-th window allocated" (nonzero, page aligned, distinct), IRQs as nonzero; capability
 * buffers field by field.
 *
 * <p>The calls compared are the ones the fake models with rules rather than scripts: the VAS family (capabilities,
 * allocate, modify and close, deallocate, paste, with their argument errors and the credit target) and H_PROD /
 * H_JOIN on a single thread (a pending prod, a vCPU that does not exist). Not compared: the fake's scripted VASI
 * states and ibm,suspend-me, whose real counterparts need an operator migration the fake has no notion of, and
 * configure-connector, which serves subtrees a test registers.
 *
 * <p>Sequences: fixed ones for the guest's own paths, then seeded random ones; a failure names the seed (rerun one
 * with {@code -Dlparemu.diff.seed=...}) and the calls up to the divergence.
 */
class FakePlatformDifferentialTest {
    static final int VCPUS = 4;
    static final int CORES = 2;
    static final int CREDITS_PER_CORE = 4;
    static final int QOS_CREDITS = 4;
    /** A 4 KiB aligned guest buffer. */
    static final long BUF = 0x10000;
    /** A window id neither platform has handed out. */
    static final long UNKNOWN_WIN = 0x7FFF_0000L;
    static final int RANDOM_SEQUENCES = 150;
    static final int RANDOM_LENGTH = 60;

    /** One call, with window arguments given as the index of an allocated window (or -1: an unknown id). */
    record Op(long opcode, int vcpu, int win, long... args) {
        static Op caps(long type, long buffer) {
            return new Op(Hcall.H_QUERY_VAS_CAPABILITIES, 0, -2, type, buffer);
        }

        static Op allocate(long type, long credits) {
            return new Op(Hcall.H_ALLOCATE_VAS_WINDOW, 0, -2, type, credits, Vas.DEFAULT_DOMAIN_ID);
        }

        /** H_MODIFY_VAS_WINDOW(win, pid, tid, flags, amr). */
        static Op modify(int win, long pid, long tid, long flags) {
            return new Op(Hcall.H_MODIFY_VAS_WINDOW, 0, win, pid, tid, flags, 0);
        }

        static Op deallocate(int win) {
            return new Op(Hcall.H_DEALLOCATE_VAS_WINDOW, 0, win);
        }

        /** H_LPAREMU_NX_PASTE(the window's paste address, length). */
        static Op paste(int win, long length) {
            return new Op(Hcall.H_LPAREMU_NX_PASTE, 0, win, length);
        }

        static Op prod(int from, long target) {
            return new Op(Hcall.H_PROD, from, -2, target);
        }

        static Op join(int vcpu) {
            return new Op(Hcall.H_JOIN, vcpu, -2);
        }

        @Override
        public String toString() {
            StringBuilder b = new StringBuilder(Hcall.name(opcode)).append("(vcpu ").append(vcpu);
            if (win != -2) {
                b.append(", ").append(win < 0 ? "unknown window" : "window #" + win);
            }
            for (long a : args) {
                b.append(", 0x").append(Long.toHexString(a));
            }
            return b.append(')').toString();
        }
    }

    /** One side: a port and what its answers meant so far (window ids and paste addresses in allocation order). */
    static final class Side {
        final String name;
        final HcallPort port;
        final List<Long> winIds = new ArrayList<>();
        final List<Long> pasteAddresses = new ArrayList<>();

        Side(String name, HcallPort port) {
            this.name = name;
            this.port = port;
        }

        /** Makes the call and describes its outcome in platform-independent terms. */
        String call(Op op) {
            long[] args;
            if (op.win == -2) {
                args = op.args;
            } else {
                long id = op.win < 0 || op.win >= winIds.size() ? UNKNOWN_WIN : winIds.get(op.win);
                long first = op.opcode == Hcall.H_LPAREMU_NX_PASTE
                        ? (op.win < 0 || op.win >= winIds.size() ? UNKNOWN_WIN << 12 : pasteAddresses.get(op.win)) : id;
                args = new long[op.args.length + 1];
                args[0] = first;
                System.arraycopy(op.args, 0, args, 1, op.args.length);
            }
            HcallResult r = port.hcall(op.vcpu, op.opcode, args, null, op.opcode == Hcall.H_JOIN);
            String status = HStatus.name(r.status());
            if (!r.ok()) {
                return status;
            }
            if (op.opcode == Hcall.H_QUERY_VAS_CAPABILITIES) {
                return status + " " + (op.args[0] == Vas.QUERY_OVERALL ? Vas.AllCaps.decode(r.buffer())
                        : Vas.CopFeatCaps.decode(r.buffer()));
            }
            if (op.opcode == Hcall.H_ALLOCATE_VAS_WINDOW) {
                long id = r.ret(0);
                long paste = r.ret(1);
                String shape = id != 0 && !winIds.contains(id) && paste != 0 && (paste & 0xFFF) == 0
                        && !pasteAddresses.contains(paste) && r.ret(2) != 0 && r.ret(3) != 0
                        ? "new id, new aligned paste address, IRQs" : "BAD rets " + r;
                winIds.add(id);
                pasteAddresses.add(paste);
                return status + " window #" + (winIds.size() - 1) + ": " + shape;
            }
            return status + " rets " + r.rets().length;
        }
    }

    /** A real platform set up like {@link FakePlatform}'s partition, and the fake set to the same capabilities. */
    static final class Pair implements AutoCloseable {
        final ManualScheduler clock = new ManualScheduler();
        final Platform platform;
        final FakePlatform fake;
        final Side real;
        final Side faked;

        Pair(boolean qosFeature) {
            this(qosFeature, true);
        }

        /** {@code holdCredits} false: no window state holds credits, so the target is never enforced. */
        Pair(boolean qosFeature, boolean holdCredits) {
            PlatformConfig.SystemConfig d = PlatformConfig.SystemConfig.named("sysA", 0);
            PlatformConfig.SystemConfig sys = new PlatformConfig.SystemConfig(d.name(), CREDITS_PER_CORE, 640, 1,
                    qosFeature, true, d.nxReqMaxProcessedLen(), d.nxMinCompressLen(), d.nxMinDecompressLen(),
                    d.pasteAddressBase(), d.numaDomainBase(), d.deviceTreeOverlay());
            PlatformConfig.HypervisorOptions o = PlatformConfig.HypervisorOptions.DEFAULT;
            platform = new Platform(new PlatformConfig(List.of(sys),
                    List.of(new PartitionSpec("lpar1", VCPUS, CORES, false, QOS_CREDITS, null)),
                    PlatformConfig.PartitionDefaults.DEFAULT, holdCredits ? o : new PlatformConfig.HypervisorOptions(
                            o.suspendWithWindows(), o.suspendRefusalStatus(), o.overCreditStatus(),
                            o.orchestratorReadyMs(), o.blackoutMs(), o.transferMs(), o.migrationTimeoutMs(),
                            o.updateNodesBatch(), o.updatePropertiesBytes(), o.updateContinuation(),
                            o.configureConnectorDelayStatus(), o.suspendBlockingStates(), Set.of(),
                            o.vasMappingsChangeAtMigrate(), o.prrnDelivery()),
                    PlatformConfig.Limits.DEFAULT), clock);
            fake = new FakePlatform(VCPUS, false);
            fake.qosFeature = qosFeature;
            fake.windowsHoldCredits = holdCredits;
            fake.qosTarget = QOS_CREDITS;
            fake.defaultTarget = CORES * CREDITS_PER_CORE;
            fake.maxLparCreds = 640;
            fake.qosMaxWinCreds = 1;
            fake.defaultMaxWinCreds = 1;
            real = new Side("real Platform", new InProcessPort(platform, "lpar1"));
            faked = new Side("FakePlatform", fake.port);
        }

        @Override
        public void close() {
            real.port.close();
            platform.close();
            clock.shutdownNow();
        }
    }

    /** Runs {@code ops} against both sides; fails at the first call whose outcome differs. */
    static void assertAgree(String what, boolean qosFeature, List<Op> ops) {
        assertAgree(what, qosFeature, true, ops);
    }

    static void assertAgree(String what, boolean qosFeature, boolean holdCredits, List<Op> ops) {
        try (Pair p = new Pair(qosFeature, holdCredits)) {
            List<String> done = new ArrayList<>();
            for (Op op : ops) {
                String want = p.real.call(op);
                String got = p.faked.call(op);
                done.add(op + " -> " + want);
                assertEquals(want, got, () -> what + " (QoS feature " + qosFeature + "): the fake answers " + op
                        + " unlike the real Platform; the calls so far, with the real outcomes:\n  " + String.join("\n  ", done));
                assertFalse(want.contains("BAD"), () -> what + ": " + want);
            }
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void theGuestsOwnPathsAgree() {
        long flags = Vas.MOD_WIN_FLAGS;
        for (boolean qos : new boolean[] {true, false}) {
            assertAgree("open, use, close", qos, List.of(
                    Op.caps(Vas.QUERY_OVERALL, BUF), Op.caps(Vas.QUERY_GZIP_QOS, BUF), Op.caps(Vas.QUERY_GZIP_DEFAULT, BUF),
                    Op.allocate(Vas.WIN_TYPE_DEFAULT, 1), Op.paste(0, 256), Op.modify(0, 7, 0, flags), Op.paste(0, 256),
                    Op.allocate(Vas.WIN_TYPE_QOS, 1), Op.modify(1, 7, 0, flags), Op.paste(1, 256),
                    Op.deallocate(0), Op.paste(0, 256), Op.deallocate(0), Op.deallocate(1)));
            assertAgree("close, then reopen", qos, List.of(
                    Op.allocate(Vas.WIN_TYPE_DEFAULT, 1), Op.modify(0, 7, 0, flags), Op.modify(0, 0, 0, Vas.MOD_WIN_CLOSE),
                    Op.paste(0, 256), Op.modify(0, 0, 0, Vas.MOD_WIN_CLOSE), Op.modify(0, 7, 0, flags), Op.deallocate(0),
                    Op.modify(0, 7, 0, flags)));
            List<Op> target = new ArrayList<>();
            for (int i = 0; i < CORES * CREDITS_PER_CORE + 1; i++) {
                target.add(Op.allocate(Vas.WIN_TYPE_DEFAULT, 1));
            }
            for (int i = 0; i < QOS_CREDITS + 1; i++) {
                target.add(Op.allocate(Vas.WIN_TYPE_QOS, 1));
            }
            target.add(Op.deallocate(3));
            target.add(Op.allocate(Vas.WIN_TYPE_DEFAULT, 1));
            target.add(Op.allocate(Vas.WIN_TYPE_DEFAULT, 1));
            assertAgree("the credit target", qos, target);
            assertAgree("no window holds credits", qos, false, target);
            assertAgree("argument errors", qos, List.of(
                    Op.caps(7, BUF), Op.caps(7, 0), Op.caps(Vas.QUERY_OVERALL, 0), Op.caps(Vas.QUERY_GZIP_QOS, BUF + 8),
                    Op.allocate(5, 1), Op.allocate(5, 0), Op.allocate(Vas.WIN_TYPE_DEFAULT, 0),
                    Op.allocate(Vas.WIN_TYPE_QOS, 2), Op.allocate(Vas.WIN_TYPE_DEFAULT, 1),
                    Op.modify(-1, 7, 0, flags), Op.modify(0, 0, 0, flags), Op.modify(0, 1L << 32, 0, flags),
                    Op.modify(0, 7, 1L << 32, flags), Op.modify(0, 7, 0, 1), Op.modify(0, 0, 1L << 32, Vas.MOD_WIN_CLOSE),
                    Op.paste(0, 0), Op.paste(-1, 256), Op.deallocate(-1)));
            assertAgree("a pending prod", qos, List.of(
                    Op.prod(0, 1), Op.join(1), Op.prod(2, VCPUS), Op.prod(1, 3), Op.prod(0, 3), Op.join(3)));
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void seededRandomSequencesAgree() {
        // Pinned in mvn verify, so a run is a function of the build; -Dlparemu.stress=true draws fresh seeds (printed).
        long fresh = Boolean.getBoolean("lparemu.stress") ? System.nanoTime() : 1;
        if (fresh != 1) {
            System.out.println("FakePlatformDifferentialTest: seeds from " + fresh);
        }
        long base = Long.getLong("lparemu.diff.seed", fresh);
        int runs = Long.getLong("lparemu.diff.seed") != null ? 1 : RANDOM_SEQUENCES;
        for (int run = 0; run < runs; run++) {
            long seed = base + run;
            Random rnd = new Random(seed);
            boolean qos = rnd.nextInt(4) != 0;
            boolean holdCredits = rnd.nextInt(4) != 0;
            assertAgree("seed " + seed + " (rerun with -Dlparemu.diff.seed=" + seed + ")", qos, holdCredits,
                    randomSequence(rnd, RANDOM_LENGTH));
        }
    }

    /**
     * Calls the guest could make, weighted towards the VAS life cycle, with bad arguments mixed in. H_JOIN is
     * only made by a vCPU with a prod pending: otherwise, on one thread, it would wait for ever on both sides.
     */
    static List<Op> randomSequence(Random rnd, int length) {
        List<Op> ops = new ArrayList<>();
        int allocated = 0;
        Set<Integer> prodded = new HashSet<>();
        long[] types = {Vas.WIN_TYPE_DEFAULT, Vas.WIN_TYPE_DEFAULT, Vas.WIN_TYPE_QOS, 5};
        long[] flagChoices = {Vas.MOD_WIN_FLAGS, Vas.MOD_WIN_FLAGS, Vas.MOD_WIN_CLOSE, Vas.MOD_WIN_FLAGS | 1, 0};
        while (ops.size() < length) {
            int win = allocated == 0 || rnd.nextInt(10) == 0 ? -1 : rnd.nextInt(allocated);
            switch (rnd.nextInt(12)) {
                case 0 -> ops.add(Op.caps(rnd.nextInt(4), rnd.nextInt(8) == 0 ? BUF + 64L * rnd.nextInt(2) - 64 : BUF));
                case 1, 2, 3 -> {
                    ops.add(Op.allocate(types[rnd.nextInt(types.length)], rnd.nextInt(8) == 0 ? rnd.nextInt(3) : 1));
                    allocated++;
                }
                case 4, 5, 6 -> ops.add(Op.modify(win, rnd.nextInt(8) == 0 ? 0 : 1 + rnd.nextInt(1000),
                        rnd.nextInt(8) == 0 ? 1L << 32 : 0, flagChoices[rnd.nextInt(flagChoices.length)]));
                case 7, 8 -> ops.add(Op.paste(win, rnd.nextInt(8) == 0 ? 0 : 1 + rnd.nextInt(4096)));
                case 9, 10 -> ops.add(Op.deallocate(win));
                default -> {
                    int target = rnd.nextInt(VCPUS + 1);
                    if (prodded.contains(target) && rnd.nextBoolean()) {
                        ops.add(Op.join(target));
                        prodded.remove(target);
                    } else {
                        ops.add(Op.prod(rnd.nextInt(VCPUS), target));
                        if (target < VCPUS) {
                            prodded.add(target);
                        }
                    }
                }
            }
        }
        return ops;
    }
}
