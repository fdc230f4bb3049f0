package org.lparemu.core.hypervisor;

import org.lparemu.core.port.HcallResult;

/**
 * One hcall's implementation, named after the call. The pipeline calls it with {@code p.lock} held (the caller's
 * partition), so implementations are annotated {@code @GuardedBy("p.lock")} and Error Prone checks their bodies.
 */
@FunctionalInterface
public interface HcallHandler {
    HcallResult handle(Partition p, CallContext ctx);
}
