package org.lparemu.core.hypervisor;

import org.lparemu.core.port.RtasResult;

/**
 * One RTAS service's implementation. The pipeline calls it with {@code p.lock} held, so implementations are
 * annotated {@code @GuardedBy("p.lock")} and Error Prone checks their bodies.
 */
@FunctionalInterface
public interface RtasHandler {
    RtasResult handle(Partition p, CallContext ctx);
}
