package org.lparemu.core.hypervisor;

import org.lparemu.core.port.HcallResult;

/** One hcall's implementation, named after the call; runs under the partition lock. */
@FunctionalInterface
public interface HcallHandler {
    HcallResult handle(CallContext ctx);
}
