package org.lparemu.core.guest;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The kernel's {@code atomic_t} with the ordering Documentation/atomic_t.txt gives each operation, in the weakest
 * Java access mode that matches it:
 * <ul>
 *   <li>{@code atomic_read} / {@code atomic_set}: non-RMW, unordered (READ_ONCE / WRITE_ONCE): opaque.</li>
 *   <li>{@code atomic_inc} / {@code atomic_dec}: RMW without a return value, atomic but unordered: a
 *       {@code weakCompareAndSetPlain} loop (Java has no relaxed getAndAdd; every {@code getAndAdd*} mode orders
 *       more than the kernel promises).</li>
 * </ul>
 * Each operation is a scheduling point of the machine, named after the kernel call, so that an explorer can
 * interleave at every one of them.
 */
final class AtomicT {
    private static final VarHandle VALUE;

    static {
        try {
            VALUE = MethodHandles.lookup().findVarHandle(AtomicT.class, "value", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Machine machine;
    private final String name;
    @SuppressWarnings("unused") // through VALUE
    private int value;

    AtomicT(Machine machine, String name) {
        this.machine = machine;
        this.name = name;
    }

    /** {@code atomic_read}. */
    int read() {
        machine.point(name + " atomic_read");
        return (int) VALUE.getOpaque(this);
    }

    /** {@code atomic_set}. */
    void set(int v) {
        machine.point(name + " atomic_set");
        VALUE.setOpaque(this, v);
    }

    /** {@code atomic_inc}. */
    void inc() {
        machine.point(name + " atomic_inc");
        add(1);
    }

    /** {@code atomic_dec}. */
    void dec() {
        machine.point(name + " atomic_dec");
        add(-1);
    }

    private void add(int delta) {
        int v;
        do {
            v = (int) VALUE.getOpaque(this);
        } while (!VALUE.weakCompareAndSetPlain(this, v, v + delta));
    }

    /** The value now, for reports and invariants (no scheduling point). */
    int peek() {
        return (int) VALUE.getOpaque(this);
    }

    @Override
    public String toString() {
        return name + "=" + peek();
    }
}
