package io.moeoracle.it;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.library.GeneralCodingRules;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;

/**
 * The module boundaries of DESIGN.md, checked over every product class on the test class path
 * (the it module depends on all modules, so this covers all of them).
 */
@AnalyzeClasses(packages = "io.moeoracle", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

    @ArchTest
    static final ArchRule apiDependsOnTheJdkOnly = classes().that().resideInAPackage("io.moeoracle.api..")
            .should().onlyDependOnClassesThat().resideInAnyPackage("java..", "io.moeoracle.api..")
            .because("api is the SPI every backend compiles against; it must pull in nothing");

    @ArchTest
    static final ArchRule backendsNeverDependOnCore = noClasses()
            .that().resideInAnyPackage("io.moeoracle.backend..", "io.moeoracle.driver..")
            .should().dependOnClassesThat().resideInAnyPackage("io.moeoracle.core..", "io.moeoracle.cli..")
            .because("a backend is a plugin: api (and its driver) is all it may see");

    @ArchTest
    static final ArchRule backendsNeverDependOnEachOther = slices().matching("io.moeoracle.backend.(*)..")
            .should().notDependOnEachOther();

    @ArchTest
    static final ArchRule driversNeverDependOnBackends = noClasses().that().resideInAPackage("io.moeoracle.driver..")
            .should().dependOnClassesThat().resideInAPackage("io.moeoracle.backend..");

    @ArchTest
    static final ArchRule coreNeverNamesABackend = noClasses().that().resideInAPackage("io.moeoracle.core..")
            .should().dependOnClassesThat()
            .resideInAnyPackage("io.moeoracle.backend..", "io.moeoracle.driver..", "io.moeoracle.cli..")
            .because("backends are found by ServiceLoader, never named");

    @ArchTest
    static final ArchRule noPackageCycles = slices().matching("io.moeoracle.(**)").should().beFreeOfCycles();

    @ArchTest
    static final ArchRule noJavaUtilLogging = GeneralCodingRules.NO_CLASSES_SHOULD_USE_JAVA_UTIL_LOGGING;

    @ArchTest
    static final ArchRule noStandardStreamsOutsideCli = noClasses()
            .that().resideOutsideOfPackage("io.moeoracle.cli..")
            .should(GeneralCodingRules.ACCESS_STANDARD_STREAMS)
            .because("library code logs through SLF4J; only the CLI prints");

    @ArchTest
    static final ArchRule nativeCallsOnlyInFfiPackages = noClasses()
            .that().resideOutsideOfPackage("..ffi..")
            .should().dependOnClassesThat().belongToAnyOf(Linker.class, SymbolLookup.class, FunctionDescriptor.class)
            .because("FFM bindings live in small ..ffi.. classes, one method handle per native function");
}
