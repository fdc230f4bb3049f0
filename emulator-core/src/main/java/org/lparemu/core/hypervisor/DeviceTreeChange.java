package org.lparemu.core.hypervisor;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One change of a PRRN operator action (the wire's DeviceTreeChange): set or delete a property, add a node
 * with properties, or delete a node with its subtree.
 */
public record DeviceTreeChange(Kind kind, String path, String property, byte[] value, Map<String, byte[]> properties) {
    public enum Kind {
        SET_PROPERTY,
        DELETE_PROPERTY,
        ADD_NODE,
        DELETE_NODE
    }

    public DeviceTreeChange {
        Objects.requireNonNull(kind, "kind");
        properties = properties == null ? Map.of() : new LinkedHashMap<>(properties);
    }

    public static DeviceTreeChange setProperty(String path, String name, byte[] value) {
        return new DeviceTreeChange(Kind.SET_PROPERTY, path, name, value, null);
    }

    public static DeviceTreeChange deleteProperty(String path, String name) {
        return new DeviceTreeChange(Kind.DELETE_PROPERTY, path, name, null, null);
    }

    public static DeviceTreeChange addNode(String path, Map<String, byte[]> properties) {
        return new DeviceTreeChange(Kind.ADD_NODE, path, null, null, properties);
    }

    public static DeviceTreeChange deleteNode(String path) {
        return new DeviceTreeChange(Kind.DELETE_NODE, path, null, null, null);
    }
}
