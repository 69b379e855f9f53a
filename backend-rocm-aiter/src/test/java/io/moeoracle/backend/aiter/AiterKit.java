package io.moeoracle.backend.aiter;

import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.driver.hip.HipDeviceProbe;
import io.moeoracle.tck.DeclaredCompatibilityKit;
import java.util.function.Supplier;

/**
 * The conformance kit on the first HIP device, for both aiter providers. Needs an AMD GPU
 * (gfx942/gfx950): the subclasses carry tag {@code rocm}, excluded from every default run;
 * {@code ./mvnw -pl backend-rocm-aiter -am verify -Dgroups=rocm} on such a machine.
 */
abstract class AiterKit extends DeclaredCompatibilityKit {
    AiterKit(Supplier<? extends MoeKernelProvider> provider) {
        super(provider, () -> new HipDeviceProbe().probe().devices().getFirst(), 1e-2);
    }

    /** BF16 (or FP8) on matrix cores with FP32 accumulation plus the output's rounding. */
    @Override
    protected double tolerance(QuantScheme scheme) {
        return scheme.activations().isQuantized() ? 5e-2 : 1e-2;
    }
}
