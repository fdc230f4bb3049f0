package org.lparemu.core.guest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.lparemu.core.papr.Errno;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.papr.VasiSignal;
import org.lparemu.core.papr.VasiState;
import org.lparemu.core.port.HcallResult;
import org.lparemu.core.port.RtasResult;
import org.lparemu.core.port.ScriptedHcallPort.Call;
import org.lparemu.core.port.ScriptedHcallPort.RtasCall;

/** pseries_migrate_partition against the fake platform's VASI states and H_JOIN rendezvous. */
class PseriesMobilityTest {
    private static final long STREAM = FakePlatform.STREAM;

    private final FakePlatform platform = new FakePlatform(4, false);
    private final VirtualGuestClock clock = new VirtualGuestClock();
    private final ErrorCounters errors = new ErrorCounters();
    private final PseriesVas vas = new PseriesVas(KernelCalls.threaded(platform.port, clock), VasPolicy.UPSTREAM, errors);
    private final NxGzipDevice device = new NxGzipDevice(vas, vas.calls(), errors);
    private final GuestDeviceTree tree = new GuestDeviceTree(FakePlatform.bootTree());
    private final PseriesMobility mobility = new PseriesMobility(vas.calls(), vas,
            MobilityHooks.direct(new DeviceTreeUpdate(vas.calls(), tree)), errors);

    PseriesMobilityTest() {
        assertEquals(0, vas.pseriesVasInit());
    }

    /** The test's task: JUnit may run the method on another thread than the one that built the instance. */
    private static String me() {
        return Thread.currentThread().getName();
    }

    private static int index(List<Call> calls, long opcode) {
        for (int i = 0; i < calls.size(); i++) {
            if (calls.get(i).opcode() == opcode) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void happyPathJoinsEveryVcpuSuspendsOnceAndReopensWindowsOnTheDestination() {
        long h1 = device.open(false, 0).handle();
        long h2 = device.open(true, 0).handle();
        long oldBase = platform.pasteBase;
        platform.vasiStates(VasiState.ENABLED, VasiState.ENABLED, VasiState.SUSPENDING);
        platform.port.clearCalls();

        assertEquals(0, mobility.migratePartition(STREAM));

        List<Call> calls = platform.port.calls();
        assertTrue(index(calls, Hcall.H_DEALLOCATE_VAS_WINDOW) < index(calls, Hcall.H_VASI_STATE),
                "windows are closed before the VASI stream is polled");
        assertEquals(List.of(Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofMillis(500)), clock.sleepsOf(me()));

        List<Call> joins = platform.port.calls(Hcall.H_JOIN);
        assertEquals(4, joins.size());
        Set<Integer> joined = new HashSet<>();
        for (Call j : joins) {
            joined.add(j.vcpu());
            assertEquals("migration/" + j.vcpu(), j.thread(), "each vCPU joins from its own thread");
        }
        assertEquals(Set.of(0, 1, 2, 3), joined);

        List<RtasCall> suspend = platform.port.rtasCalls(RtasService.SUSPEND_ME);
        assertEquals(1, suspend.size());
        assertEquals(0, suspend.get(0).args().length);
        int last = suspend.get(0).vcpu();
        List<Call> prods = platform.port.calls(Hcall.H_PROD);
        assertEquals(3, prods.size());
        Set<Long> prodded = new HashSet<>();
        for (Call p : prods) {
            assertEquals(last, p.vcpu(), "the vCPU that suspended comes back first and prods the others");
            prodded.add(p.arg(0));
        }
        assertTrue(!prodded.contains((long) last) && prodded.size() == 3);

        List<RtasCall> rtas = platform.port.rtasCalls();
        List<String> services = rtas.stream().map(RtasCall::service).toList();
        assertEquals(List.of(RtasService.SUSPEND_ME, RtasService.ACTIVATE_FIRMWARE, RtasService.UPDATE_NODES), services);
        assertEquals(RtasService.MIGRATION_SCOPE, rtas.get(2).arg(1));
        assertEquals(0, platform.port.count(Hcall.H_VASI_SIGNAL));

        assertEquals(Vas.VAS_WIN_ACTIVE, device.window(h1).status());
        assertEquals(Vas.VAS_WIN_ACTIVE, device.window(h2).status());
        assertTrue(device.window(h1).pasteAddress() >= oldBase + 0x1000_0000_0000L, "reopened on the destination");
        assertTrue(device.paste(h1, 64));
        assertEquals(1, platform.migrations.get());
        assertEquals(1, mobility.migrationsOk());
        assertEquals(0, mobility.migrationsFailed());
        assertEquals(1, mobility.suspendAttempts());
        assertEquals(List.of(), vas.checkInvariants());
    }

    @Test
    void aStrayProdMakesTheVcpuJoinAgain() {
        platform.strayProd(2);

        assertEquals(0, mobility.migratePartition(STREAM));

        assertEquals(1, mobility.strayProds());
        assertEquals(2, platform.port.calls(Hcall.H_JOIN).stream().filter(c -> c.vcpu() == 2).count());
        assertEquals(5, platform.port.count(Hcall.H_JOIN));
        assertEquals(1, platform.port.rtasCalls(RtasService.SUSPEND_ME).size());
    }

    @Test
    void failedSuspendBacksOffOneTenHundredThousandMsThenCancels() {
        long h = device.open(false, 0).handle();
        long paste = device.window(h).pasteAddress();
        platform.suspendStatus = RtasStatus.NOT_SUSPENDABLE;
        platform.port.clearCalls();

        assertEquals(Errno.EBUSY.negative(), mobility.migratePartition(STREAM));

        assertEquals(5, platform.port.rtasCalls(RtasService.SUSPEND_ME).size());
        assertEquals(20, platform.port.count(Hcall.H_JOIN));
        assertEquals(15, platform.port.count(Hcall.H_PROD));
        assertEquals(5, platform.port.count(Hcall.H_VASI_STATE), "one wait for Suspending, then one poll per retry");
        assertEquals(List.of(Duration.ofMillis(1), Duration.ofMillis(10), Duration.ofMillis(100), Duration.ofMillis(1000)),
                clock.sleepsOf(me()));
        List<Call> cancel = platform.port.calls(Hcall.H_VASI_SIGNAL);
        assertEquals(1, cancel.size());
        assertArrayEquals(new long[] {STREAM, VasiSignal.CANCEL, (6L << 24) | 16}, cancel.get(0).args());
        assertEquals(0, platform.port.rtasCalls(RtasService.UPDATE_NODES).size());
        assertEquals(0, platform.port.rtasCalls(RtasService.ACTIVATE_FIRMWARE).size());
        // RESUME always runs: the window is reopened, on the source.
        assertEquals(Vas.VAS_WIN_ACTIVE, device.window(h).status());
        assertEquals(0, platform.migrations.get());
        assertEquals(platform.windows.get(device.window(h).winId()).pasteAddress(), device.window(h).pasteAddress());
        assertTrue(device.window(h).pasteAddress() != paste, "a new hypervisor window");
        assertEquals(1, mobility.migrationsFailed());
        assertEquals(1, errors.get(Errno.EBUSY));
    }

    @Test
    void aWindowStillOpenInTheHypervisorMakesSuspendMeRefuse() {
        // What a half-open window missed by SUSPEND looks like to the platform (see VasPolicyRaceTest).
        platform.windows.put(999L, new FakePlatform.HvWindow(999, Vas.WIN_TYPE_DEFAULT, 0xABC000, true, false));

        assertEquals(Errno.EBUSY.negative(), mobility.migratePartition(STREAM));

        assertEquals(5, platform.port.rtasCalls(RtasService.SUSPEND_ME).size());
        assertEquals(0, platform.migrations.get());
        assertEquals(1, platform.port.count(Hcall.H_VASI_SIGNAL));
    }

    @ParameterizedTest(name = "ibm,suspend-me {0} -> {1}")
    @CsvSource({"9000, ECANCELED", "-9004, EBUSY", "-9005, EAGAIN", "-9006, EBUSY", "-1, EIO", "-2, EIO", "42, EIO"})
    void suspendMeStatusesMapToErrnos(int status, String errno) {
        platform.suspendStatus = status;
        platform.vasiStates(VasiState.SUSPENDING, VasiState.ABORTED);

        int rc = mobility.migratePartition(STREAM);

        assertEquals(Errno.valueOf(errno).negative(), rc);
        assertEquals(1, platform.port.rtasCalls(RtasService.SUSPEND_ME).size(), "the stream left Suspending: no retry");
        assertEquals(List.of(), clock.sleepsOf(me()));
        long reason = platform.port.calls(Hcall.H_VASI_SIGNAL).get(0).arg(2);
        assertEquals(VasiSignal.cancelReason(6, Errno.valueOf(errno).value), reason);
    }

    @Test
    void missingVasiStateIsToleratedAndTheMigrationGoesAhead() {
        platform.port.on(Hcall.H_VASI_STATE, c -> HcallResult.of(HStatus.H_FUNCTION));
        assertEquals(0, mobility.migratePartition(STREAM));
        assertEquals(1, platform.migrations.get());
        assertEquals(List.of(), clock.sleepsOf(me()), "no VASI polling loop without H_VASI_STATE");
    }

    @Test
    void aVasiPollErrorAfterAFailedSuspendGivesUpAtOnceAndCancels() {
        platform.suspendStatus = RtasStatus.NOT_SUSPENDABLE;
        AtomicInteger polls = new AtomicInteger();
        // Suspending for the wait before the first attempt; then H_VASI_STATE itself fails (not H_FUNCTION).
        platform.port.on(Hcall.H_VASI_STATE, c -> polls.incrementAndGet() == 1
                ? HcallResult.success(VasiState.SUSPENDING.code) : HcallResult.of(HStatus.H_HARDWARE));

        assertEquals(Errno.EBUSY.negative(), mobility.migratePartition(STREAM), "the attempt's error, not the poll's");

        assertEquals(1, mobility.suspendAttempts(), "no retry after a poll error");
        assertEquals(1, platform.port.rtasCalls(RtasService.SUSPEND_ME).size());
        assertEquals(2, polls.get());
        assertEquals(List.of(), clock.sleepsOf(me()), "no back-off");
        List<Call> cancel = platform.port.calls(Hcall.H_VASI_SIGNAL);
        assertEquals(1, cancel.size());
        assertEquals(VasiSignal.cancelReason(6, Errno.EBUSY.value), cancel.get(0).arg(2));
        assertEquals(0, platform.port.rtasCalls(RtasService.ACTIVATE_FIRMWARE).size(), "no post-mobility fixup");
        assertEquals(0, platform.migrations.get());
        assertEquals(0, mobility.migrationsOk());
        assertEquals(1, mobility.migrationsFailed());
    }

    @Test
    void unexpectedVasiStateBeforeSuspendIsEioWithoutCancel() {
        long h = device.open(false, 0).handle();
        platform.vasiStates(VasiState.ABORTED);

        assertEquals(Errno.EIO.negative(), mobility.migratePartition(STREAM));

        assertEquals(0, platform.port.count(Hcall.H_JOIN));
        assertEquals(0, platform.port.count(Hcall.H_VASI_SIGNAL));
        assertEquals(Vas.VAS_WIN_ACTIVE, device.window(h).status(), "RESUME reopened the window");
    }

    @Test
    void unknownStreamIsEinval() {
        assertEquals(Errno.EINVAL.negative(), mobility.migratePartition(12345));
        assertEquals(0, platform.port.count(Hcall.H_JOIN));
    }

    @Test
    void joinErrorFailsTheAttemptAndTheNextOneSucceeds() {
        platform.port.script(Hcall.H_JOIN, HcallResult.of(HStatus.H_BAD_MODE));

        assertEquals(0, mobility.migratePartition(STREAM));

        assertEquals(2, mobility.suspendAttempts());
        assertEquals(List.of(Duration.ofMillis(1), Duration.ofMillis(500)), clock.sleepsOf(me()));
        assertEquals(1, platform.port.rtasCalls(RtasService.SUSPEND_ME).size(), "no vCPU could be last in the bad attempt");
    }

    @Test
    void activateFirmwareIsRetriedWhileBusy() {
        platform.port.scriptRtas(RtasService.ACTIVATE_FIRMWARE, RtasResult.of(RtasStatus.BUSY), RtasResult.of(9901),
                RtasResult.of(RtasStatus.SUCCESS));

        assertEquals(0, mobility.migratePartition(STREAM));

        assertEquals(3, platform.port.rtasCalls(RtasService.ACTIVATE_FIRMWARE).size());
        assertTrue(clock.sleepsOf(me()).contains(Duration.ofMillis(10)));
    }

    @Test
    void vasiCompletionWaitEndsOnParameterError() {
        List<Long> polled = new ArrayList<>();
        platform.port.on(Hcall.H_VASI_STATE, c -> {
            polled.add(c.arg(0));
            if (platform.migrations.get() == 0) {
                return HcallResult.success(VasiState.SUSPENDING.code);
            }
            return polled.size() < 4 ? HcallResult.success(VasiState.RESUMED.code) : HcallResult.of(HStatus.H_PARAMETER);
        });

        assertEquals(0, mobility.migratePartition(STREAM));

        assertEquals(4, polled.size());
        assertEquals(List.of(Duration.ofMillis(500), Duration.ofMillis(500)), clock.sleepsOf(me()));
    }
}
