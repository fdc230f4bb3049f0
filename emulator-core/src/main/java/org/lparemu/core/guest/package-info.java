/**
 * The guest kernel: the Linux pseries logic for VAS (NX-GZIP) windows, Live Partition Mobility, PRRN and
 * processor DLPAR, re-implemented in Java with the kernel's names, running against the platform only through
 * {@link org.lparemu.core.port.HcallPort} (never the hypervisor classes; an architecture test enforces it).
 *
 * <h2>Pieces</h2>
 * <ul>
 *   <li>{@link org.lparemu.core.guest.PseriesVas}: vas.c (window open/close, credit reconfiguration, the
 *       migration handler, the busy-retry loop).</li>
 *   <li>{@link org.lparemu.core.guest.NxGzipDevice}: the /dev/crypto/nx-gzip user API (open, paste, close).</li>
 *   <li>{@link org.lparemu.core.guest.PseriesMobility}: mobility.c (VASI polling, the H_JOIN rendezvous with
 *       one thread per vCPU, ibm,suspend-me, retries, cancel, post-migration fixups).</li>
 *   <li>{@link org.lparemu.core.guest.DeviceTreeUpdate} and {@link org.lparemu.core.guest.GuestDeviceTree}:
 *       pseries_devicetree_update over the RTAS work areas, the guest's device-tree copy and its reconfig
 *       notifiers.</li>
 *   <li>{@link org.lparemu.core.guest.PrrnWorker}: rtasd's PRRN handling and the PRRN-vs-migration ordering.</li>
 *   <li>{@link org.lparemu.core.guest.PseriesDlpar}: processor add/remove and the QoS credit write.</li>
 *   <li>{@link org.lparemu.core.guest.GuestKernel}: boot, event dispatch to worker threads, reports,
 *       invariants; {@link org.lparemu.core.guest.Workload}: user tasks.</li>
 * </ul>
 *
 * <h2>Policies</h2>
 * The point of the emulator is comparing algorithms, so each era's algorithm is selectable and none knows about
 * scenarios: {@link org.lparemu.core.guest.VasPolicy} (PRE_FIX, UPSTREAM, V1_PATCH, HOLD_MUTEX: how a window open is
 * serialised against the migration's SUSPEND) and {@link org.lparemu.core.guest.PrrnPolicy} (UNSERIALIZED,
 * DT_MUTEX, DRAIN_BEFORE_SUSPEND, IGNORE: how PRRN device-tree updates are ordered against a migration's).
 * Outcomes such as a refused migration, a leaked window or a stale device tree must come out of running them.
 *
 * <h2>Threads and locks</h2>
 * Every hcall blocks its thread as a CPU is busy in an hcall. Platform events arrive on the port's thread and
 * are handed at once to worker threads ({@code drmgr}, {@code rtasd}, {@code dlpar}, {@code kreport}); user
 * tasks are {@code task-N}; a suspend runs one {@code migration/N} thread per vCPU. Lock order, written once:
 * <pre>
 *   PrrnWorker.dtUpdateMutex (DT_MUTEX policy only)
 *     -&gt; PseriesVas.vasPseriesMutex (taken by a reconfig notifier when an update adds or removes a processor)
 *       -&gt; VasWindow.mmapMutex
 *   GuestDeviceTree.treeLock: a leaf, held only for one tree change; never held with the VAS mutex (notifiers
 *   run after it is released).
 *   NxGzipDevice per-handle lock -&gt; vasPseriesMutex (the window ioctl and close).
 * </pre>
 * {@code migration_in_progress} is the one flag written outside its lock; its accessors are named by memory
 * mode and say which kernel access each stands for. All time goes through {@link org.lparemu.core.guest.GuestClock}
 * (virtual in tests); every sleep goes through the clock.
 */
package org.lparemu.core.guest;
