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
    /** (sensor token, index) -> state: DR_ENTITY_SENSE of a dynamic-reconfiguration connector. */
    public static final String GET_SENSOR_STATE = "get-sensor-state";
    /** (indicator token, index, value): ALLOCATION_STATE or ISOLATION_STATE of a connector. */
    public static final String SET_INDICATOR = "set-indicator";
    /** (event mask, critical, buffer, length): 0 and one event log in the work area, or 1 "no errors found". */
    public static final String EVENT_SCAN = "event-scan";

    public static final List<String> ALL = List.of(SUSPEND_ME, UPDATE_NODES, UPDATE_PROPERTIES, ACTIVATE_FIRMWARE,
            CONFIGURE_CONNECTOR, STOP_SELF, START_CPU, QUERY_CPU_STOPPED_STATE, GET_SENSOR_STATE, SET_INDICATOR,
            EVENT_SCAN);

    /** event-scan's event mask for every class of event (RTAS_EVENT_SCAN_ALL_EVENTS). */
    public static final long EVENT_SCAN_ALL_EVENTS = 0xFFFFFFFFL;
    /** event-scan found no event to report. */
    public static final int EVENT_SCAN_NONE = 1;

    /** Sensor: dynamic-reconfiguration entity sense (get-sensor-state), and its states. */
    public static final int DR_ENTITY_SENSE = 9003;
    public static final int DR_ENTITY_EMPTY = 0;
    public static final int DR_ENTITY_PRESENT = 1;
    public static final int DR_ENTITY_UNUSABLE = 2;
    /** Indicator: the connector's allocation to the OS (set-indicator), and its values. */
    public static final int ALLOCATION_STATE = 9003;
    public static final int ALLOC_UNUSABLE = 0;
    public static final int ALLOC_USABLE = 1;
    /** Indicator: the connector's isolation (set-indicator), and its values. */
    public static final int ISOLATION_STATE = 9001;
    public static final int ISOLATE = 0;
    public static final int UNISOLATE = 1;

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
