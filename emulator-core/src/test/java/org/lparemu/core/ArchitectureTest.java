package org.lparemu.core;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/** Layering inside emulator-core (architecture.md): the guest sees only the ABI; the core stays transport-free. */
@AnalyzeClasses(packages = "org.lparemu.core", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

    /** A guest kernel reaches the platform only through HcallPort, exactly like a real kernel. */
    @ArchTest
    static final ArchRule guestSeesOnlyTheAbi = noClasses().that().resideInAPackage("org.lparemu.core.guest..")
            .should().dependOnClassesThat().resideInAnyPackage("org.lparemu.core.hypervisor..", "org.lparemu.core.fault..",
                    "org.lparemu.core.check..")
            .because("the guest must see only the hcall/RTAS ABI (org.lparemu.core.port, org.lparemu.core.papr)");

    /**
     * The hcall and RTAS families, Mobility and Reconfiguration see the platform only through PlatformServices
     * and the partition they are handed: never the facade with its registry, dispatcher and operator API.
     */
    @ArchTest
    static final ArchRule familiesNeverSeePlatform = noClasses().that().resideInAPackage("org.lparemu.core.hypervisor")
            .and().doNotHaveFullyQualifiedName("org.lparemu.core.hypervisor.Platform")
            .and().doNotHaveSimpleName("InProcessPort").and().doNotHaveSimpleName("GuestSession")
            .should().dependOnClassesThat().haveFullyQualifiedName("org.lparemu.core.hypervisor.Platform")
            .because("inside the hypervisor only the ports (InProcessPort, GuestSession) hold the Platform; families, "
                    + "Mobility, Reconfiguration and the pipeline receive PlatformServices (architecture.md, the house "
                    + "issue), whatever their names");

    /** emulator-core is usable in-process: no transport or wire-format classes. */
    @ArchTest
    static final ArchRule coreHasNoNettyOrProtobuf = noClasses().that().resideInAPackage("org.lparemu.core..")
            .should().dependOnClassesThat().resideInAnyPackage("io.netty..", "com.google.protobuf..")
            .because("Netty and protobuf belong to the wire, client and server modules");
}
