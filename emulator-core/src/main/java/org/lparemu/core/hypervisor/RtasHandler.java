package org.lparemu.core.hypervisor;

import org.lparemu.core.port.RtasResult;

/** One RTAS service's implementation; runs under the partition lock. */
@FunctionalInterface
public interface RtasHandler {
    RtasResult handle(CallContext ctx);
}
