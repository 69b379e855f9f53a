package io.moeoracle.api;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.error.KernelStateException;
import io.moeoracle.api.error.MoeKernelException;
import io.moeoracle.api.error.NativeFailureException;
import io.moeoracle.api.error.UnsupportedSpecException;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;

/**
 * A kernel backend, found with {@link java.util.ServiceLoader} (or bound explicitly by a host).
 * Implementations must have a public no-argument constructor that does no heavy work: native
 * libraries are loaded lazily, so that one broken backend cannot break discovery.
 *
 * <p>On a simulated device ({@link DeviceInfo#simulated()}) the verdict must follow the
 * provider's rules for that device alone and must not load or call native code; whether its
 * driver and kernel image exist on this host is reported separately by {@link #hostAvailability()}.
 * A provider reaches a real device through the {@link DeviceInfo#address(Class) address} of its
 * driver's kind, never by parsing the id; a device it cannot reach that way gets an unsupported
 * verdict naming the address to use.
 *
 * <p><b>Priorities</b> lie in the bands of {@link Priority}; ties are broken as described there.
 *
 * <p><b>Thread safety.</b> One provider instance serves every thread of a host (the selector is
 * shared): every method may be called from any thread, concurrently, at any time. {@link #id()},
 * {@link #description()}, {@link #priority}, {@link #activationType}, {@link #runsOnHost()} and
 * {@link #isSupported} are deterministic (equal arguments, equal answers, whatever the thread);
 * {@link #create} returns a new, independent kernel on every call.
 *
 * <p><b>Errors.</b> {@link #isSupported} never throws for a valid spec; {@link #create} throws
 * {@link UnsupportedSpecException} (with the verdict's reason and remedy) for a layer or device its
 * verdict rejects, {@link BadInputException} for a simulated device, and
 * {@link NativeFailureException} when the driver or library fails; never another type.
 */
public interface MoeKernelProvider {

    /** @return a unique short id, lower case, e.g. {@code marlin}, {@code cpu} */
    String id();

    /** @return one line on what this backend is */
    default String description() {
        return id();
    }

    /**
     * Higher runs first. Only compared between providers that support the spec. Use the named
     * constants of {@link Priority} and stay inside its bands.
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
     * @throws UnsupportedSpecException when the verdict on the spec and device is unsupported
     * @throws BadInputException when the device is simulated
     * @throws NativeFailureException when the driver, library or kernel image fails to load
     */
    MoeKernel create(MoeLayerSpec spec, DeviceInfo device);
}
