package io.moeoracle.tck;

import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.QuantScheme;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The conformance kit declared in one constructor call, for a backend whose test needs only a
 * provider, a device and one tolerance for every scheme:
 *
 * <pre>{@code
 * class AcmeCompatibilityTest extends DeclaredCompatibilityKit {
 *     AcmeCompatibilityTest() {
 *         super(AcmeProvider::new, AcmeDevices::first, 2e-2);   // relative L2 against the float64 reference
 *     }
 * }
 * }</pre>
 *
 * <p>It is {@link MoeKernelCompatibilityKit} with {@link #provider()}, {@link #device()} and
 * {@link #tolerance(QuantScheme)} answered from the constructor's arguments; everything else (opt-outs,
 * runnable specs, device memory, a tolerance per scheme) is overridden as there. A driver can extend it
 * once for its devices, so that each backend's test passes only the provider and the tolerance (the
 * CUDA backends' {@code CudaCompatibilityKit} in driver-cuda's test jar does). The kit instantiates the
 * test class again in forked JVMs through its no-argument constructor: pass suppliers that do their work
 * when called (method references), not devices probed in the constructor.
 */
public abstract class DeclaredCompatibilityKit extends MoeKernelCompatibilityKit {
    private final Supplier<? extends MoeKernelProvider> provider;
    private final Supplier<DeviceInfo> device;
    private final double tolerance;

    /**
     * @param provider makes the provider under test (called often; a new instance each time is fine)
     * @param device finds the real device the provider runs on (called when a test needs it)
     * @param tolerance the relative L2 error allowed against the float64 reference for every scheme,
     *     output rounding included (a BF16 output alone costs about 3e-3); the BF16 rounding of F32 hidden
     *     states is allowed on top ({@link MoeKernelCompatibilityKit#tolerance})
     * @throws IllegalArgumentException when the tolerance is not a positive finite number
     */
    protected DeclaredCompatibilityKit(Supplier<? extends MoeKernelProvider> provider, Supplier<DeviceInfo> device,
                                       double tolerance) {
        this.provider = Objects.requireNonNull(provider, "provider");
        this.device = Objects.requireNonNull(device, "device");
        if (!(tolerance > 0) || Double.isInfinite(tolerance)) {
            throw new IllegalArgumentException(getClass().getName() + ": the tolerance is a relative L2 error above 0"
                    + " (e.g. 1e-2), not " + tolerance);
        }
        this.tolerance = tolerance;
    }

    @Override
    protected MoeKernelProvider provider() {
        return provider.get();
    }

    @Override
    protected DeviceInfo device() {
        return device.get();
    }

    /** @return the constructor's tolerance, whatever the scheme (override for one per scheme) */
    @Override
    protected double tolerance(QuantScheme scheme) {
        return tolerance;
    }
}
