package org.lparemu.core.guest;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * One credit type's state ({@code vas_caps} with its {@code vas_cop_feat_caps}): index 0 is QoS, 1 Default.
 * Owned by {@link PseriesVas}; the fields are package-private so that the VAS code reads like the kernel's, and
 * {@link PseriesVas#snapshot(int)} is the public view. The list and counters the kernel keeps here under
 * {@code vas_pseries_mutex} ({@code list}, {@code nr_open_windows}, {@code nr_close_wins},
 * {@code nr_open_wins_progress}) are fields of {@link PseriesVas}, where Error Prone checks their guard.
 */
final class VasCaps {

    // --- Immutable after construction.

    /** Index into vascaps[]: 0 QoS, 1 Default (the kernel's VAS_GZIP_*_FEAT_TYPE). */
    final int type;

    // --- Written only by PseriesVas.pseriesVasInit, under vasPseriesMutex, before copypasteFeat is published
    // --- (a volatile write) and before any worker or task thread exists; read-only afterwards.

    /** H_QUERY_VAS_CAPABILITIES query type for this feature (1 QoS, 2 Default); 0 if never initialised. */
    int feat;
    /** The hypervisor's descriptor ("VQosGzip" / "VDefGzip"). */
    long descriptor;
    /** win_type the hypervisor reported; passed to H_ALLOCATE_VAS_WINDOW and used as the vascaps[] index. */
    int winType;
    int userMode;
    int maxLparCreds;
    int maxWinCreds;
    int defLparCreds;
    /** The capabilities of this type were read and accepted. */
    boolean enabled;

    // --- Atomics, as in the kernel (atomic_t): written under vasPseriesMutex (total) or lock-free (used).

    /** Credits the partition may use now: the hypervisor's target, or the QoS value the administrator set. */
    final AtomicInteger nrTotalCredits = new AtomicInteger();
    /**
     * Credits held by windows that exist in the guest (being opened, or listed active or closed). Incremented
     * before the hypervisor is asked, without the mutex; can exceed nrTotalCredits after a credit loss.
     */
    final AtomicInteger nrUsedCredits = new AtomicInteger();

    // --- lparemu bookkeeping for checkInvariants, not in the kernel. Lock-free counters.

    /** Opens between taking a credit and either listing the window or giving the credit back. */
    final AtomicInteger allocationsInFlight = new AtomicInteger();
    /** Windows allocated in the hypervisor by an open that has not yet listed or deallocated them. */
    final AtomicInteger windowsHalfOpen = new AtomicInteger();

    VasCaps(int type) {
        this.type = type;
    }
}
