package org.lparemu.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lparemu.core.hypervisor.ControlError;
import org.lparemu.core.hypervisor.ControlException;
import org.lparemu.core.hypervisor.PlatformConfig;
import org.lparemu.core.hypervisor.PlatformConfig.WindowState;

/** The hypervisor's firmware choices read from the configuration file, with today's behaviour as the default. */
@Timeout(10)
class ConfigLoaderTest {
    @Test
    void unsetFirmwareChoicesKeepTodaysBehaviour() throws Exception {
        PlatformConfig.HypervisorOptions h = ConfigLoader.parse("hypervisor { blackout_ms: 5 }").hypervisor();
        PlatformConfig.HypervisorOptions d = PlatformConfig.HypervisorOptions.DEFAULT;
        assertEquals(PlatformConfig.UpdateContinuation.REJECT, h.updateContinuation());
        assertEquals(0, h.configureConnectorDelayStatus());
        assertEquals(EnumSet.allOf(WindowState.class), h.suspendBlockingStates());
        assertEquals(EnumSet.allOf(WindowState.class), h.creditHoldingStates());
        assertEquals(false, h.vasMappingsChangeAtMigrate());
        assertEquals(PlatformConfig.PrrnDelivery.PUSH_EVENT, h.prrnDelivery());
        assertEquals(d.withUpdateContinuation(h.updateContinuation()), d, "the defaults are the documented ones");
    }

    @Test
    void everyFirmwareChoiceIsRead() throws Exception {
        PlatformConfig.HypervisorOptions h = ConfigLoader.parse("""
                hypervisor {
                  update_continuation: UPDATE_CONTINUATION_SERVE_OLD_SYSTEM
                  configure_connector_delay_status: -2
                  suspend_blocking_states { states: [WINDOW_STATE_ACTIVE, WINDOW_STATE_MODIFY_IN_PROCESS] }
                  credit_holding_states { }
                  vas_mappings_change_at_migrate: true
                  prrn_delivery: PRRN_DELIVERY_EVENT_LOG
                }
                """).hypervisor();
        assertEquals(PlatformConfig.UpdateContinuation.SERVE_OLD_SYSTEM, h.updateContinuation());
        assertEquals(-2, h.configureConnectorDelayStatus());
        assertEquals(EnumSet.of(WindowState.ACTIVE, WindowState.MODIFY_IN_PROCESS), h.suspendBlockingStates());
        assertEquals(Set.of(), h.creditHoldingStates(), "an empty list is no state at all");
        assertEquals(true, h.vasMappingsChangeAtMigrate());
        assertEquals(PlatformConfig.PrrnDelivery.EVENT_LOG, h.prrnDelivery());
        assertEquals(PlatformConfig.UpdateContinuation.RESTART, ConfigLoader.parse(
                "hypervisor { update_continuation: UPDATE_CONTINUATION_RESTART }").hypervisor().updateContinuation());
    }

    @Test
    void badChoicesAreBadSpecs() {
        ControlException delay = assertThrows(ControlException.class,
                () -> ConfigLoader.parse("hypervisor { configure_connector_delay_status: 7 }"));
        assertEquals(ControlError.BAD_SPEC, delay.code());
        ControlException state = assertThrows(ControlException.class, () -> ConfigLoader.parse(
                "hypervisor { suspend_blocking_states { states: [WINDOW_STATE_UNSPECIFIED] } }"));
        assertEquals(ControlError.BAD_SPEC, state.code());
    }

    @Test
    void theExampleConfigurationParses() throws Exception {
        PlatformConfig c = ConfigLoader.load(Path.of("..", "docs", "example-config.textproto"));
        assertEquals(PlatformConfig.UpdateContinuation.REJECT, c.hypervisor().updateContinuation());
        assertEquals(EnumSet.allOf(WindowState.class), c.hypervisor().suspendBlockingStates());
    }
}
