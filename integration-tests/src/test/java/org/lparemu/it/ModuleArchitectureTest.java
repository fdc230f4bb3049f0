package org.lparemu.it;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.core.importer.Location;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The arrows between the adapter modules (architecture.md): wire <- client, server <- demo <- cli. Maven's module
 * dependencies already make most wrong arrows fail to compile; these rules name them, so that a dependency added
 * to a pom by mistake fails here with the reason.
 */
@AnalyzeClasses(packages = "org.lparemu", importOptions = {ImportOption.DoNotIncludeTests.class,
        ModuleArchitectureTest.DoNotIncludeTestJars.class})
class ModuleArchitectureTest {
    /** The modules' test-jars (emulator-core's fixtures) are on this class path too; their tests are not product code. */
    static final class DoNotIncludeTestJars implements ImportOption {
        @Override
        public boolean includes(Location location) {
            return !location.contains("-tests.jar");
        }
    }

    @ArchTest
    static final ArchRule wireDependsOnNoAdapter = noClasses().that().resideInAPackage("org.lparemu.wire..")
            .should().dependOnClassesThat().resideInAnyPackage("org.lparemu.client..", "org.lparemu.server..",
                    "org.lparemu.demo..", "org.lparemu.cli..")
            .because("wire is the bottom layer of the adapters: framing, constants and mapping only");

    @ArchTest
    static final ArchRule clientNeverImportsServer = noClasses().that().resideInAPackage("org.lparemu.client..")
            .should().dependOnClassesThat().resideInAnyPackage("org.lparemu.server..", "org.lparemu.demo..",
                    "org.lparemu.cli..")
            .because("a test project uses the client artifact without the daemon");

    @ArchTest
    static final ArchRule serverNeverImportsDemoOrCli = noClasses().that().resideInAPackage("org.lparemu.server..")
            .should().dependOnClassesThat().resideInAnyPackage("org.lparemu.demo..", "org.lparemu.cli..")
            .because("the daemon does not know the scenarios or the command line");

    @ArchTest
    static final ArchRule demoNeverImportsCli = noClasses().that().resideInAPackage("org.lparemu.demo..")
            .should().dependOnClassesThat().resideInAPackage("org.lparemu.cli..")
            .because("the CLI renders the demo, not the other way round");

    @ArchTest
    static final ArchRule coreNeverImportsAdapters = noClasses().that().resideInAPackage("org.lparemu.core..")
            .should().dependOnClassesThat().resideInAnyPackage("org.lparemu.wire..", "org.lparemu.client..",
                    "org.lparemu.server..", "org.lparemu.demo..", "org.lparemu.cli..", "org.lparemu.proto..")
            .because("emulator-core is the model the adapters translate to; it knows none of them");

    /** No two packages lean on each other, in any module on this class path (the daemon, the kernel harness, ...). */
    @ArchTest
    static final ArchRule packagesAreFreeOfCycles = slices().matching("org.lparemu.(**)").should().beFreeOfCycles()
            .because("a package cycle is a layer that is not one: the shared part belongs in a package of its own");

    @ArchTest
    static final ArchRule noProductCodeDependsOnTheJunitExtension = noClasses().that().resideInAnyPackage(
                    "org.lparemu.core..", "org.lparemu.wire..", "org.lparemu.client..", "org.lparemu.server..",
                    "org.lparemu.demo..", "org.lparemu.cli..")
            .should().dependOnClassesThat().resideInAPackage("org.lparemu.junit..")
            .because("lparemu-junit is for test projects: JUnit must never reach the daemon or the runnable jar");
}
