package org.lparemu.core.port;

/** What a guest learns when it binds to its partition (the Welcome frame). */
public record BootInfo(String partition, int vcpus, String system, int cores, boolean sharedProcessor,
                       DeviceTree deviceTree) {
}
