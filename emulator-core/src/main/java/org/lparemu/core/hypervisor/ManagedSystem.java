package org.lparemu.core.hypervisor;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A managed system (physical server): its VAS/NX capabilities, and the resources it hands out to the
 * partitions it hosts (window ids, IRQs, paste addresses). Window ids and paste addresses are per system,
 * so those handed out on the source mean nothing on the destination.
 *
 * <p>Thread-safety: configuration is immutable; the allocators are atomics shared by all partitions on the
 * system (partitions lock only themselves).
 */
public final class ManagedSystem {
    /** Page size of one paste address. */
    public static final long PASTE_PAGE = 0x10000;

    private final PlatformConfig.SystemConfig config;
    private final int index;
    private final AtomicLong nextWinId;
    private final AtomicInteger nextIrq;

    ManagedSystem(PlatformConfig.SystemConfig config, int index) {
        this.config = config;
        this.index = index;
        // Distinct id ranges per system make a stale source id fail on the destination instead of aliasing.
        this.nextWinId = new AtomicLong(((long) (index + 1) << 20) + 1);
        this.nextIrq = new AtomicInteger(0x1000 * (index + 1));
    }

    public String name() {
        return config.name();
    }

    public PlatformConfig.SystemConfig config() {
        return config;
    }

    public int index() {
        return index;
    }

    /** A window id never handed out before on this system. */
    public long allocateWinId() {
        return nextWinId.getAndIncrement();
    }

    /** An IRQ number never handed out before on this system. */
    public int allocateIrq() {
        return nextIrq.getAndIncrement();
    }

    /** The paste address of a window id on this system: one page per window above the system's base. */
    public long pasteAddress(long winId) {
        return config.pasteAddressBase() + (winId & 0xFFFFF) * PASTE_PAGE;
    }

    @Override
    public String toString() {
        return name();
    }
}
