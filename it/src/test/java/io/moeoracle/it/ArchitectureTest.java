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
 * The dependency table of docs/architecture.md ("who may depend on whom"), checked over every
 * product class on the test class path (the it module depends on all modules, so this covers all
 * of them). One rule per row of that table, then the house rules that hold everywhere. A new
 * module gets a row there and a rule here; {@link #everyPackageHasARowInTheTable} fails until it does.
 */
@AnalyzeClasses(packages = "io.moeoracle", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

    // ---- one rule per row of the table ----

    @ArchTest
    static final ArchRule apiDependsOnTheJdkOnly = classes().that().resideInAPackage("io.moeoracle.api..")
            .should().onlyDependOnClassesThat().resideInAnyPackage("java..", "io.moeoracle.api..")
            .because("api is the SPI every backend compiles against; it must pull in nothing");

    @ArchTest
    static final ArchRule coreDependsOnApiAndSlf4jOnly = classes().that().resideInAPackage("io.moeoracle.core..")
            .should().onlyDependOnClassesThat()
            .resideInAnyPackage("java..", "io.moeoracle.api..", "io.moeoracle.core..", "org.slf4j..")
            .because("a host that only selects kernels pulls api, core and slf4j-api, nothing more;"
                    + " backends are found by ServiceLoader, never named");

    @ArchTest
    static final ArchRule referenceDependsOnApiOnly = classes().that().resideInAPackage("io.moeoracle.reference..")
            .should().onlyDependOnClassesThat()
            .resideInAnyPackage("java..", "io.moeoracle.api..", "io.moeoracle.reference..")
            .because("backends test against the reference without seeing core");

    @ArchTest
    static final ArchRule benchDependsOnApiReferenceAndSlf4j = classes().that().resideInAPackage("io.moeoracle.bench..")
            .should().onlyDependOnClassesThat().resideInAnyPackage("java..", "io.moeoracle.api..",
                    "io.moeoracle.reference..", "io.moeoracle.bench..", "org.slf4j..")
            .because("the harness times any provider through the SPI; it needs no selector");

    @ArchTest
    static final ArchRule measureDependsOnCoreReferenceBenchAndSlf4j = classes().that()
            .resideInAPackage("io.moeoracle.measure..")
            .should().onlyDependOnClassesThat().resideInAnyPackage("java..", "io.moeoracle.api..",
                    "io.moeoracle.core..", "io.moeoracle.reference..", "io.moeoracle.bench..", "io.moeoracle.measure..",
                    "org.slf4j..")
            .because("the measured policy runs candidates through the harness and checks them against the reference;"
                    + " core finds it through ServiceLoader and never names it");

    @ArchTest
    static final ArchRule tckDependsOnApiReferenceAndJUnit = classes().that().resideInAPackage("io.moeoracle.tck..")
            .should().onlyDependOnClassesThat().resideInAnyPackage("java..", "io.moeoracle.api..",
                    "io.moeoracle.reference..", "io.moeoracle.tck..", "org.junit..", "org.opentest4j..")
            .because("the kit is what a backend author runs: api, the reference and JUnit, nothing of core");

    @ArchTest
    static final ArchRule onlyTestsUseTheKit = noClasses().that().resideOutsideOfPackage("io.moeoracle.tck..")
            .should().dependOnClassesThat().resideInAPackage("io.moeoracle.tck..")
            .because("the kit is test code shipped in main scope: product code never calls it");

    @ArchTest
    static final ArchRule guiceModuleDependsOnCoreAndGuice = classes().that().resideInAPackage("io.moeoracle.guice..")
            .should().onlyDependOnClassesThat().resideInAnyPackage("java..", "io.moeoracle.api..",
                    "io.moeoracle.core..", "io.moeoracle.guice..", "com.google.inject..", "jakarta.inject..");

    @ArchTest
    static final ArchRule onlyTheGuiceModuleNamesGuice = noClasses().that().resideOutsideOfPackage("io.moeoracle.guice..")
            .should().dependOnClassesThat()
            .resideInAnyPackage("com.google.inject..", "jakarta.inject..", "javax.inject..", "com.google.common..")
            .because("hosts without Guice must not pull it: it lives in moe-oracle-guice alone");

    @ArchTest
    static final ArchRule nativeLoaderDependsOnApiAndSlf4jOnly = classes().that()
            .resideInAPackage("io.moeoracle.nativeload..").should().onlyDependOnClassesThat()
            .resideInAnyPackage("java..", "io.moeoracle.api..", "io.moeoracle.nativeload..", "org.slf4j..")
            .because("the one native-library loader serves drivers and backends and knows none of them");

    @ArchTest
    static final ArchRule onlyDriversAndBackendsLoadNativeLibraries = noClasses().that()
            .resideOutsideOfPackages("io.moeoracle.nativeload..", "io.moeoracle.driver..", "io.moeoracle.backend..")
            .should().dependOnClassesThat().resideInAPackage("io.moeoracle.nativeload..")
            .because("core, cli and the rest never open a native library");

    @ArchTest
    static final ArchRule driversDependOnApiAndTheNativeLoaderOnly = classes().that()
            .resideInAPackage("io.moeoracle.driver..").should().onlyDependOnClassesThat()
            .resideInAnyPackage("java..", "io.moeoracle.api..", "io.moeoracle.nativeload..", "io.moeoracle.driver..",
                    "org.slf4j..")
            .because("a driver is a typed facade over one native library; it knows no backend and no core");

    @ArchTest
    static final ArchRule driversNeverDependOnEachOther = slices().matching("io.moeoracle.driver.(*)..")
            .should().notDependOnEachOther().ignoreDependency(
                    com.tngtech.archunit.base.DescribedPredicate.describe("NCCL's facade",
                            c -> c.getPackageName().startsWith("io.moeoracle.driver.nccl")),
                    com.tngtech.archunit.base.DescribedPredicate.describe("CUDA's facade",
                            c -> c.getPackageName().startsWith("io.moeoracle.driver.cuda")))
            .because("drivers are separate facades; NCCL's alone uses CUDA's (NCCL works on CUDA streams and memory)");

    @ArchTest
    static final ArchRule expertParallelismDependsOnCoreAndTheCudaAndNcclDrivers = classes().that()
            .resideInAPackage("io.moeoracle.ep..").should().onlyDependOnClassesThat()
            .resideInAnyPackage("java..", "io.moeoracle.api..", "io.moeoracle.core..", "io.moeoracle.driver.cuda..",
                    "io.moeoracle.driver.nccl..", "io.moeoracle.ep..", "org.slf4j..")
            .because("expert parallelism runs whatever kernel the selector chooses per rank: it names no backend");

    @ArchTest
    static final ArchRule cudaMoeDependsOnApiAndTheCudaDriverOnly = classes().that()
            .resideInAPackage("io.moeoracle.cuda.moe..").should().onlyDependOnClassesThat()
            .resideInAnyPackage("java..", "io.moeoracle.api..", "io.moeoracle.driver.cuda", "io.moeoracle.cuda.moe..",
                    "org.slf4j..")
            .because("cuda-moe is the CUDA backends' shared plumbing, not a backend: api and driver-cuda's public"
                    + " package are all it may see");

    @ArchTest
    static final ArchRule cudaMoeNeverDependsOnABackendOrCore = noClasses().that()
            .resideInAPackage("io.moeoracle.cuda.moe..").should().dependOnClassesThat()
            .resideInAnyPackage("io.moeoracle.backend..", "io.moeoracle.core..")
            .because("backends depend on cuda-moe, never the other way round");

    @ArchTest
    static final ArchRule cudaMoeProvidesNoService = noClasses().that().resideInAPackage("io.moeoracle.cuda.moe..")
            .should().implement(io.moeoracle.api.MoeKernelProvider.class)
            .orShould().implement(io.moeoracle.api.DeviceProbe.class)
            .because("cuda-moe is not a backend: it is never found by ServiceLoader");

    @ArchTest
    static final ArchRule backendsDependOnApiAndDriversOnly = classes().that().resideInAPackage("io.moeoracle.backend..")
            .should().onlyDependOnClassesThat().resideInAnyPackage("java..", "io.moeoracle.api..",
                    "io.moeoracle.nativeload..", "io.moeoracle.driver..", "io.moeoracle.cuda.moe..",
                    "io.moeoracle.backend..", "org.slf4j..")
            .because("a backend is a plugin: api (and its driver) is all it may see; the CUDA backends also use"
                    + " cuda-moe, their shared plumbing");

    @ArchTest
    static final ArchRule onlyTheCudaBackendsUseCudaMoe = noClasses().that().resideOutsideOfPackages(
                    "io.moeoracle.cuda.moe..", "io.moeoracle.backend.marlin..", "io.moeoracle.backend.flashinfer..",
                    "io.moeoracle.backend.triton..")
            .should().dependOnClassesThat().resideInAPackage("io.moeoracle.cuda.moe..")
            .because("cuda-moe exports its packages to the three CUDA backends only");

    @ArchTest
    static final ArchRule backendsNeverDependOnEachOther = slices().matching("io.moeoracle.backend.(*)..")
            .should().notDependOnEachOther();

    @ArchTest
    static final ArchRule backendsNeverDependOnCore = noClasses().that().resideInAPackage("io.moeoracle.backend..")
            .should().dependOnClassesThat().resideInAnyPackage("io.moeoracle.core..", "io.moeoracle.cli..")
            .because("backends are found by ServiceLoader and see the SPI only");

    @ArchTest
    static final ArchRule cliDependsOnCoreReferenceBench = classes().that().resideInAPackage("io.moeoracle.cli..")
            .should().onlyDependOnClassesThat().resideInAnyPackage("java..", "io.moeoracle.api..",
                    "io.moeoracle.core..", "io.moeoracle.reference..", "io.moeoracle.bench..", "io.moeoracle.measure..",
                    "io.moeoracle.ep..", "io.moeoracle.cli..", "picocli..", "org.slf4j..", "org.jfree..")
            .because("the CLI names no backend and no driver: they are found at run time (expert parallelism through ep)");

    @ArchTest
    static final ArchRule everyPackageHasARowInTheTable = classes().that().resideInAPackage("io.moeoracle..")
            .should().resideInAnyPackage("io.moeoracle.api..", "io.moeoracle.core..", "io.moeoracle.reference..",
                    "io.moeoracle.bench..", "io.moeoracle.measure..", "io.moeoracle.guice..", "io.moeoracle.nativeload..",
                    "io.moeoracle.driver..", "io.moeoracle.cuda.moe..", "io.moeoracle.backend..", "io.moeoracle.ep..",
                    "io.moeoracle.cli..", "io.moeoracle.tck..")
            .because("a new module gets a row in docs/architecture.md and a rule in this class");

    // ---- house rules ----

    @ArchTest
    static final ArchRule coreInternalsStayInCore = noClasses().that().resideOutsideOfPackage("io.moeoracle.core..")
            .should().dependOnClassesThat().resideInAPackage("io.moeoracle.core.internal..")
            .because("core.internal (its JSON among it) is not exported: no compatibility promise");

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
