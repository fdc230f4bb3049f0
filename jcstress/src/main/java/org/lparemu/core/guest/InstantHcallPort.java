package org.lparemu.core.guest;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.port.BootInfo;
import org.lparemu.core.port.GuestReport;
import org.lparemu.core.port.HcallPort;
import org.lparemu.core.port.HcallResult;
import org.lparemu.core.port.PlatformEventListener;
import org.lparemu.core.port.RtasResult;

/**
 * A hypervisor stub that answers at once, for jcstress tests that run the real guest classes: a jcstress state
 * is built for every iteration (millions per run), so neither the in-process hypervisor nor the test-jar's
 * {@code FakePlatform} (locks, traces, scripting) is cheap enough, and their synchronisation would add
 * happens-before edges the kernel cannot count on.
 *
 * <p>What it models, and no more:
 * <ul>
 *   <li>VAS: capabilities of both credit types (plenty of credits), H_ALLOCATE / H_MODIFY / H_DEALLOCATE of
 *       windows, with {@link #windowsLive()} the number of windows allocated and not yet deallocated, which is
 *       what the hypervisor checks at suspend (papr-notes 6.5).</li>
 *   <li>The suspend rendezvous of two vCPUs: vCPU 0's H_JOIN answers H_CONTINUE (it is the last to join and
 *       calls ibm,suspend-me, which succeeds), vCPU 1's H_JOIN answers H_SUCCESS. Before vCPU 0 has prodded
 *       it that is a stray wake-up (as from paravirt spinlocks); the prod is consumed once; an H_JOIN of vCPU 1
 *       after it has consumed the real prod is a CPU that went back to sleep with no one left to wake it: the
 *       stub answers H_HARDWARE so that the test records the missed wake-up instead of hanging.</li>
 * </ul>
 * By default the prod travels through an {@link AtomicBoolean} (a synchronising action), as it does through
 * lparemu's real ports (dispatcher queues and locks). With {@link Doorbell#ORDERS_NOTHING} it is an opaque store
 * and an opaque load (and a plain-memory-semantics CAS to consume it): the doorbell then carries no happens-before
 * edge, and only the kernel's own barriers in {@code doJoin} order {@code done} before the prod.
 */
class InstantHcallPort implements HcallPort {
    static final int VCPUS = 2;
    private static final VarHandle PROD_PENDING;
    private static final VarHandle PROD_CONSUMED;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            PROD_PENDING = l.findVarHandle(InstantHcallPort.class, "plainProdPending", boolean.class);
            PROD_CONSUMED = l.findVarHandle(InstantHcallPort.class, "plainProdConsumed", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** How H_PROD reaches the prodded vCPU's H_JOIN. */
    enum Doorbell {
        /** Through an AtomicBoolean: a synchronising action, as lparemu's ports are. */
        SYNCHRONISING,
        /** Opaque accesses only: orders nothing but the doorbell itself. */
        ORDERS_NOTHING
    }

    private static final byte[] ALL_CAPS =
            new Vas.AllCaps(Vas.DESCRIPTOR_OVERALL, Vas.FEAT_GZIP_QOS | Vas.FEAT_GZIP_DEFAULT).encode();
    private static final byte[] QOS_CAPS =
            new Vas.CopFeatCaps(Vas.DESCRIPTOR_QOS, Vas.WIN_TYPE_QOS, Vas.USER_MODE_COPY_PASTE, 64, 1, 0, 64).encode();
    private static final byte[] DEFAULT_CAPS =
            new Vas.CopFeatCaps(Vas.DESCRIPTOR_DEFAULT, Vas.WIN_TYPE_DEFAULT, Vas.USER_MODE_COPY_PASTE, 640, 1, 320, 640)
                    .encode();
    private static final long PASTE_BASE = 0x6000_0000_0000L;
    private static final BootInfo BOOT = new BootInfo("jcstress", VCPUS, "stub", VCPUS, false, null);

    private final AtomicLong nextWinId = new AtomicLong(100);
    private final Set<Long> windows = ConcurrentHashMap.newKeySet();
    private final AtomicInteger windowsLive = new AtomicInteger();

    private final Doorbell doorbell;
    private final AtomicBoolean prodPending = new AtomicBoolean();
    private final AtomicBoolean prodConsumed = new AtomicBoolean();
    @SuppressWarnings("unused") // through PROD_PENDING
    private boolean plainProdPending;
    @SuppressWarnings("unused") // through PROD_CONSUMED
    private boolean plainProdConsumed;

    InstantHcallPort() {
        this(Doorbell.SYNCHRONISING);
    }

    InstantHcallPort(Doorbell doorbell) {
        this.doorbell = doorbell;
    }

    /** Windows allocated in the hypervisor and not deallocated. */
    int windowsLive() {
        return windowsLive.get();
    }

    @Override
    public BootInfo bootInfo() {
        return BOOT;
    }

    @Override
    public HcallResult hcall(int vcpu, long opcode, long[] args, byte[] buffer, boolean interruptsDisabled) {
        if (opcode == Hcall.H_QUERY_VAS_CAPABILITIES) {
            return switch ((int) args[0]) {
                case Vas.QUERY_OVERALL -> HcallResult.successWithBuffer(ALL_CAPS);
                case Vas.QUERY_GZIP_QOS -> HcallResult.successWithBuffer(QOS_CAPS);
                case Vas.QUERY_GZIP_DEFAULT -> HcallResult.successWithBuffer(DEFAULT_CAPS);
                default -> HcallResult.of(HStatus.H_PARAMETER);
            };
        }
        if (opcode == Hcall.H_ALLOCATE_VAS_WINDOW) {
            long id = nextWinId.incrementAndGet();
            windows.add(id);
            windowsLive.incrementAndGet();
            return HcallResult.success(id, PASTE_BASE + (id << 12), 0, 0);
        }
        if (opcode == Hcall.H_MODIFY_VAS_WINDOW) {
            return windows.contains(args[0]) ? HcallResult.success() : HcallResult.of(HStatus.H_PARAMETER);
        }
        if (opcode == Hcall.H_DEALLOCATE_VAS_WINDOW) {
            if (!windows.remove(args[0])) {
                return HcallResult.of(HStatus.H_PARAMETER);
            }
            windowsLive.decrementAndGet();
            return HcallResult.success();
        }
        if (opcode == Hcall.H_JOIN) {
            return join(vcpu);
        }
        if (opcode == Hcall.H_PROD) {
            if (doorbell == Doorbell.SYNCHRONISING) {
                prodPending.set(true);
            } else {
                PROD_PENDING.setOpaque(this, true);
            }
            return HcallResult.success();
        }
        return HcallResult.of(HStatus.H_FUNCTION);
    }

    private HcallResult join(int vcpu) {
        if (vcpu == 0) {
            return HcallResult.of(HStatus.H_CONTINUE);
        }
        if (doorbell == Doorbell.ORDERS_NOTHING) {
            if ((boolean) PROD_PENDING.getOpaque(this) && PROD_PENDING.weakCompareAndSetPlain(this, true, false)) {
                PROD_CONSUMED.setOpaque(this, true);
                return HcallResult.success();
            }
            return (boolean) PROD_CONSUMED.getOpaque(this) ? HcallResult.of(HStatus.H_HARDWARE) : HcallResult.success();
        }
        if (prodPending.getAndSet(false)) {
            prodConsumed.set(true);
            return HcallResult.success();
        }
        // Re-joining after the real prod: the kernel would sleep in H_JOIN for ever. Make it visible instead.
        return prodConsumed.get() ? HcallResult.of(HStatus.H_HARDWARE) : HcallResult.success();
    }

    @Override
    public CompletableFuture<HcallResult> hcallAsync(int vcpu, long opcode, long[] args, byte[] buffer,
                                                     boolean interruptsDisabled) {
        return CompletableFuture.completedFuture(hcall(vcpu, opcode, args, buffer, interruptsDisabled));
    }

    @Override
    public RtasResult rtas(int vcpu, String service, long[] args, byte[] workArea) {
        return RtasResult.of(RtasService.SUSPEND_ME.equals(service) ? RtasStatus.SUCCESS : RtasStatus.HARDWARE_ERROR);
    }

    @Override
    public CompletableFuture<RtasResult> rtasAsync(int vcpu, String service, long[] args, byte[] workArea) {
        return CompletableFuture.completedFuture(rtas(vcpu, service, args, workArea));
    }

    @Override
    public void setEventListener(PlatformEventListener listener) {
    }

    @Override
    public void ackEvent(long eventId, int status, String detail) {
    }

    @Override
    public void report(GuestReport report) {
    }

    @Override
    public boolean isOpen() {
        return true;
    }

    @Override
    public void close() {
    }
}
