package org.lparemu.core.papr;

import java.util.List;

/** Names of the RTAS services lparemu implements. */
public final class RtasService {
    public static final String SUSPEND_ME = "ibm,suspend-me";
    public static final String UPDATE_NODES = "ibm,update-nodes";
    public static final String UPDATE_PROPERTIES = "ibm,update-properties";
    public static final String ACTIVATE_FIRMWARE = "ibm,activate-firmware";
    public static final String CONFIGURE_CONNECTOR = "ibm,configure-connector";

    public static final List<String> ALL =
            List.of(SUSPEND_ME, UPDATE_NODES, UPDATE_PROPERTIES, ACTIVATE_FIRMWARE, CONFIGURE_CONNECTOR);

    /** ibm,update-nodes scope for a migration (MIGRATION_SCOPE). PRRN uses the negative event scope. */
    public static final int MIGRATION_SCOPE = 1;
    /** Size of the work area for ibm,update-nodes and ibm,update-properties (RTAS_DATA_BUF_SIZE). */
    public static final int WORK_AREA_SIZE = 4096;

    private RtasService() {
    }
}
