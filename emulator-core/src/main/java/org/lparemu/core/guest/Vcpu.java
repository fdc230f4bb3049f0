package org.lparemu.core.guest;

/**
 * Which virtual processor the current thread runs on, for the vcpu argument of every hcall and RTAS call. A
 * real kernel knows its CPU; here each guest thread is bound once (task threads round-robin over the
 * partition's vCPUs, the per-vCPU threads of a suspend to their own id). Unbound threads run on vCPU 0.
 */
final class Vcpu {
    private static final ThreadLocal<Integer> CURRENT = ThreadLocal.withInitial(() -> 0);

    private Vcpu() {
    }

    static int current() {
        return CURRENT.get();
    }

    static void bind(int vcpu) {
        if (vcpu < 0) {
            throw new IllegalArgumentException("vcpu " + vcpu);
        }
        CURRENT.set(vcpu);
    }
}
