package io.moeoracle.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectNestedClass;

import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.HostCpuFeatures;
import io.moeoracle.api.spec.QuantScheme;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.platform.engine.DiscoverySelector;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * The kit catches deliberately broken providers: each flaw of {@link FlawedProvider} makes the kit
 * test that looks for it fail (a native crash included: that one fails a test, the JVM lives on),
 * while the same provider without a flaw passes those tests.
 */
class FlawedProvidersTest {

    /** The kit over a flawed provider on the host CPU. */
    abstract static class FlawedKit extends MoeKernelCompatibilityKit {
        @Override
        protected DeviceInfo device() {
            return HostCpuFeatures.host();
        }

        @Override
        protected double tolerance(QuantScheme scheme) {
            return 5e-3;
        }
    }

    static final class FlawlessKit extends FlawedKit {
        @Override
        protected MoeKernelProvider provider() {
            return new FlawedProvider.Flawless();
        }
    }

    /** A kit whose device is missing on this machine: its device() aborts, as a driver-less host would. */
    static final class NoDeviceHereKit extends FlawedKit {
        @Override
        protected MoeKernelProvider provider() {
            return new FlawedProvider.Flawless();
        }

        @Override
        protected DeviceInfo device() {
            org.junit.jupiter.api.Assumptions.abort("no test device on this machine");
            throw new AssertionError("unreachable");
        }
    }

    static final class ClaimsGeluKit extends FlawedKit {
        @Override
        protected MoeKernelProvider provider() {
            return new FlawedProvider.ClaimsGelu();
        }
    }

    static final class OffByFivePercentKit extends FlawedKit {
        @Override
        protected MoeKernelProvider provider() {
            return new FlawedProvider.OffByFivePercent();
        }
    }

    static final class LeakyKit extends FlawedKit {
        @Override
        protected MoeKernelProvider provider() {
            return new FlawedProvider.Leaky();
        }
    }

    static final class CrashesOnWrongShapeKit extends FlawedKit {
        @Override
        protected MoeKernelProvider provider() {
            return new FlawedProvider.CrashesOnWrongShape();
        }
    }

    static final class NotThreadSafeKit extends FlawedKit {
        @Override
        protected MoeKernelProvider provider() {
            return new FlawedProvider.NotThreadSafe();
        }
    }

    static final class BatchedPaddingUnwrittenKit extends FlawedKit {
        @Override
        protected MoeKernelProvider provider() {
            return new FlawedProvider.BatchedPaddingUnwritten();
        }
    }

    /** Runs the given groups of a kit and returns each test method's outcome. */
    private static Map<String, TestExecutionResult> run(Class<? extends MoeKernelCompatibilityKit> kit, Class<?>... groups) {
        Map<String, TestExecutionResult> results = new TreeMap<>();
        List<DiscoverySelector> selectors = groups.length == 0 ? List.of(selectClass(kit))
                : java.util.Arrays.stream(groups).map(g -> (DiscoverySelector) selectNestedClass(List.of(kit), g)).toList();
        LauncherFactory.create().execute(LauncherDiscoveryRequestBuilder.request().selectors(selectors).build(),
                new TestExecutionListener() {
                    @Override
                    public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                        if (id.isTest() && id.getSource().orElse(null) instanceof MethodSource m) {
                            results.put(m.getMethodName(), result);
                        }
                    }
                });
        return results;
    }

    private static void assertFailed(Map<String, TestExecutionResult> results, String test, String because) {
        assertThat(results).containsKey(test);
        TestExecutionResult r = results.get(test);
        assertThat(r.getStatus()).as(test + " should fail: " + because).isEqualTo(TestExecutionResult.Status.FAILED);
        assertThat(r.getThrowable()).isPresent();
        assertThat(r.getThrowable().get().getMessage()).as("failure of " + test).contains(because);
    }

    @Test
    @DisplayName("without a flaw, the same provider passes every group of the kit")
    void theFlawlessProviderPasses() {
        Map<String, TestExecutionResult> results = run(FlawlessKit.class);
        assertThat(results).hasSizeGreaterThan(30);
        results.forEach((test, r) -> assertThat(r.getStatus()).as(test + ": " + r.getThrowable().map(Throwable::toString)
                .orElse("")).isEqualTo(TestExecutionResult.Status.SUCCESSFUL));
    }

    @Test
    @DisplayName("a device() that aborts skips the forked groups too, instead of failing them")
    void aMissingDeviceSkipsTheForkedGroups() {
        Map<String, TestExecutionResult> r = run(NoDeviceHereKit.class, MoeKernelCompatibilityKit.Resources.class,
                MoeKernelCompatibilityKit.BadInput.class);
        assertThat(r).isNotEmpty();
        assertThat(r.values()).allSatisfy(result -> {
            assertThat(result.getStatus()).isEqualTo(TestExecutionResult.Status.ABORTED);
            assertThat(result.getThrowable().map(Throwable::getMessage).orElse("")).contains("no test device");
        });
    }

    @Test
    @DisplayName("a provider that claims GELU and runs SiLU fails the honesty group")
    void claimsSupportItLacks() {
        Map<String, TestExecutionResult> r = run(ClaimsGeluKit.class, MoeKernelCompatibilityKit.Honesty.class);
        assertFailed(r, "supportedSpecsRun", "gelu");
        assertThat(r.get("rejectionsExplain").getStatus()).isEqualTo(TestExecutionResult.Status.SUCCESSFUL);
    }

    @Test
    @DisplayName("a provider whose numerics are 5% off fails the numerics group")
    void numericsOffByFivePercent() {
        Map<String, TestExecutionResult> r = run(OffByFivePercentKit.class, MoeKernelCompatibilityKit.Numerics.class);
        assertFailed(r, "freshRandomInputs", "relative L2 error 0.04");
        assertFailed(r, "hotExpert", "exceeds");
    }

    @Test
    @DisplayName("a provider that leaks host memory on every forward fails the resources group")
    void leaksHostMemoryPerForward() {
        Map<String, TestExecutionResult> r = run(LeakyKit.class, MoeKernelCompatibilityKit.Resources.class);
        assertFailed(r, "forwardsLeaveMemoryFlat", "grew host memory");
        assertThat(r.get("lifeCyclesLeaveMemoryFlat").getStatus()).isEqualTo(TestExecutionResult.Status.SUCCESSFUL);
    }

    @Test
    @DisplayName("a provider that crashes the JVM on a wrong shape fails that bad-input test; this JVM lives on")
    void crashesOnAWrongShape() {
        Map<String, TestExecutionResult> r = run(CrashesOnWrongShapeKit.class, MoeKernelCompatibilityKit.BadInput.class);
        assertFailed(r, "hiddenOfTheWrongWidth", "crashed the JVM");
        assertThat(r.get("hiddenOfTheWrongWidth").getThrowable().get().getMessage()).contains("signal 6");
        // the cases after the crash ran in a fresh forked JVM
        assertThat(r.get("forwardAfterClose").getStatus()).isEqualTo(TestExecutionResult.Status.SUCCESSFUL);
        assertThat(r.get("expertIdOutOfRange").getStatus()).isEqualTo(TestExecutionResult.Status.SUCCESSFUL);
    }

    @Test
    @DisplayName("a provider that leaves the batched layout's padding rows unwritten fails the numerics group")
    void batchedPaddingUnwritten() {
        Map<String, TestExecutionResult> r = run(BatchedPaddingUnwrittenKit.class, MoeKernelCompatibilityKit.Numerics.class);
        assertFailed(r, "freshRandomInputs", "batched");
        assertThat(r.get("hotExpert").getStatus()).isEqualTo(TestExecutionResult.Status.SUCCESSFUL);
    }

    @Test
    @DisplayName("a provider whose kernels share scratch memory but claim thread-safety fails the concurrency group")
    void notThreadSafeButSaysItIs() {
        Map<String, TestExecutionResult> r = run(NotThreadSafeKit.class, MoeKernelCompatibilityKit.Concurrency.class);
        assertFailed(r, "oneKernelManyThreads", "calls on one kernel interfere");
    }
}
