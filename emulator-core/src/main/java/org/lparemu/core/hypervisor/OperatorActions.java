package org.lparemu.core.hypervisor;

import java.util.List;

/**
 * The operator (HMC-role) actions, as a fault rule's Trigger starts them from inside the call pipeline. Implemented
 * by {@link Platform}; the pipeline sees only this.
 */
interface OperatorActions {
    OperatorResults.MigrateResult migrate(String partition, String destination);

    OperatorResults.PrrnResult prrn(String partition, List<DeviceTreeChange> changes);

    OperatorResults.DlparCpuResult dlparCpu(String partition, boolean add, int cores);

    long setQosCredits(String partition, int credits);
}
