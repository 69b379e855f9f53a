package io.moeoracle.api;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;

/**
 * A kernel backend, found with {@link java.util.ServiceLoader} (or bound explicitly by a host).
 * Implementations must have a public no-argument constructor that does no heavy work: native
 * libraries are loaded lazily, so that one broken backend cannot break discovery.
 *
 * <p>On a simulated device ({@link DeviceInfo#simulated()}) the verdict must follow the
 * provider's rules for that device alone; whether its driver and kernel image exist on this host
 * is reported separately by {@link #hostAvailability()}.
 */
public interface MoeKernelProvider {

    /** @return a unique short id, lower case, e.g. {@code marlin}, {@code cpu} */
    String id();

    /** @return one line on what this backend is */
    default String description() {
        return id();
    }

    /**
     * Higher runs first. Only compared between providers that support the spec.
     *
     * @param spec the layer
     * @param device the device
     * @return the priority for this scheme and device
     */
    int priority(MoeLayerSpec spec, DeviceInfo device);

    /**
     * The activation type this provider runs the spec with; used to order BF16-activation variants
     * first when the spec leaves the activation type to {@link ActivationType#AUTO}.
     *
     * @param spec the layer
     * @param device the device
     * @return BF16 unless the provider quantizes activations
     */
    default ActivationType activationType(MoeLayerSpec spec, DeviceInfo device) {
        ActivationType requested = spec.quant().activations();
        return requested == ActivationType.AUTO ? ActivationType.BF16 : requested;
    }

    /**
     * Judges the spec on the device. Must not throw for any valid spec.
     *
     * @param spec the layer
     * @param device the device, possibly simulated
     * @return supported, or unsupported with reason and remedy
     */
    SupportVerdict isSupported(MoeLayerSpec spec, DeviceInfo device);

    /**
     * Whether this provider computes on the host CPU whatever device it is handed (an emulation or
     * a reference implementation that ignores the device). The selector lets such a provider win
     * on a non-CPU device only when it is requested by id, and on a CPU device only when no
     * device-side provider supports the layer (the explanation then marks it {@code fallback}), so
     * a GPU layer is never handed to the host without the user asking.
     *
     * @return true for a host-side provider; false (the default) for one that runs on the device
     */
    default boolean runsOnHost() {
        return false;
    }

    /** @return whether this host has what the provider needs to run for real */
    default HostAvailability hostAvailability() {
        return HostAvailability.yes();
    }

    /**
     * Creates a kernel. Called only after a supported verdict.
     *
     * @param spec the layer
     * @param device a real device
     * @return the kernel, not yet prepared
     */
    MoeKernel create(MoeLayerSpec spec, DeviceInfo device);
}
