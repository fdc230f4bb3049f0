package org.lparemu.core.papr;

import java.util.List;

/** Names of the RTAS services lparemu implements. */
public final class RtasService {
    public static final String SUSPEND_ME = "ibm,suspend-me";
    public static final String UPDATE_NODES = "ibm,update-nodes";
    public static final String UPDATE_PROPERTIES = "ibm,update-properties";
    public static final String ACTIVATE_FIRMWARE = "ibm,activate-firmware";
    public static final String CONFIGURE_CONNECTOR = "ibm,configure-connector";
    /** The calling processor stops (an offlined thread's last call; never returns on hardware). */
    public static final String STOP_SELF = "stop-self";
    /** Starts a stopped processor: (cpu, start address, r3). */
    public static final String START_CPU = "start-cpu";
    /** (cpu) -> 0 stopped, 2 running. */
    public static final String QUERY_CPU_STOPPED_STATE = "query-cpu-stopped-state";

    public static final List<String> ALL = List.of(SUSPEND_ME, UPDATE_NODES, UPDATE_PROPERTIES, ACTIVATE_FIRMWARE,
            CONFIGURE_CONNECTOR, STOP_SELF, START_CPU, QUERY_CPU_STOPPED_STATE);

    /** ibm,update-nodes scope for a migration (MIGRATION_SCOPE). PRRN uses the negative event scope. */
    public static final int MIGRATION_SCOPE = 1;
    /** Size of the work area for ibm,update-nodes and ibm,update-properties (RTAS_DATA_BUF_SIZE). */
    public static final int WORK_AREA_SIZE = 4096;

    private RtasService() {
    }

    /** Services the OS calls without rtas_lock: stop-self (it never returns). */
    public static boolean unlocked(String service) {
        return STOP_SELF.equals(service);
    }
}
