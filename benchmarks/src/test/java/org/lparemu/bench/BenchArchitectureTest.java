package org.lparemu.bench;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/** The harness's packages layer as the product's do (ModuleArchitectureTest): the figures use the harness, not back. */
@AnalyzeClasses(packages = "org.lparemu.bench", importOptions = ImportOption.DoNotIncludeTests.class)
class BenchArchitectureTest {

    @ArchTest
    static final ArchRule packagesAreFreeOfCycles = slices().matching("org.lparemu.(**)").should()
            .beFreeOfCycles().because("the harness lists its figures through META-INF/services, never by import");
}
