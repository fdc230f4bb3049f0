package org.lparemu.core.check;

/**
 * One broken invariant.
 *
 * @param name     stable name, e.g. "window-leak", "device-tree-stale"
 * @param location where: "lpar1/window 1048577", "lpar1:/cpus/PowerPC,POWER10@8 ibm,associativity"
 * @param oracle   "hypervisor", "guest" (guest against hypervisor) or "device-tree"
 */
public record Violation(String name, String location, String detail, String oracle) {
    @Override
    public String toString() {
        return "[" + oracle + "] " + name + " at " + location + ": " + detail;
    }
}
