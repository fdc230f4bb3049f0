package org.lparemu.demo;

import java.util.List;
import org.lparemu.core.hypervisor.PlatformConfig;
import org.lparemu.core.hypervisor.PlatformConfig.SystemConfig;

/** Platform configurations scenarios share. */
final class ScenarioConfigs {
    private ScenarioConfigs() {
    }

    /** {@code base} with every managed system granting {@code credits} default credits per core. */
    static PlatformConfig creditsPerCore(PlatformConfig base, int credits) {
        List<SystemConfig> systems = base.systems().stream().map(s -> new SystemConfig(s.name(), credits,
                s.maxLparCredits(), s.maxWindowCredits(), s.qosFeature(), s.userModeCopyPaste(),
                s.nxReqMaxProcessedLen(), s.nxMinCompressLen(), s.nxMinDecompressLen(), s.pasteAddressBase(),
                s.numaDomainBase(), s.deviceTreeOverlay())).toList();
        return new PlatformConfig(systems, base.partitions(), base.partitionDefaults(), base.hypervisor(),
                base.limits());
    }
}
