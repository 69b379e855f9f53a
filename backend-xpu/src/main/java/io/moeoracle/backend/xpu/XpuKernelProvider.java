package io.moeoracle.backend.xpu;

import io.moeoracle.api.HostAvailability;
import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.Priority;
import io.moeoracle.api.RooflineProbe;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceAddress;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.error.NativeFailureException;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.driver.opencl.ClDevice;
import io.moeoracle.driver.opencl.OpenCl;
import io.moeoracle.driver.opencl.OpenClException;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@code xpu} backend: OpenCL C MoE kernels (routing, alignment, GEMM1 with MXFP4/BF16 weights
 * decoded in the kernel plus bias and gated activation, GEMM2 plus a deterministic weighted
 * reduction over the top-k), shipped as source in the jar and built at run time by the device's
 * compiler (binaries cached on disk by the OpenCL driver module).
 *
 * <p>Supported on Intel Xe GPUs; any other OpenCL device only with {@code moe.xpu.anyDevice=true}.
 * Sub-group reductions where the device has {@code cl_intel_subgroups} / {@code cl_khr_subgroups},
 * a portable local-memory path where not ({@code moe.xpu.path} forces one). Settings:
 * {@link XpuSettings}; a host can bind a configured instance instead ({@link #XpuKernelProvider(XpuOptions)}).
 */
public final class XpuKernelProvider implements MoeKernelProvider, RooflineProbe {
    /** The provider id. */
    public static final String ID = "xpu";

    private final Optional<XpuOptions> configured;

    /**
     * Creates the provider for {@link java.util.ServiceLoader}; its options come from
     * {@link XpuSettings}, read at each use. OpenCL is touched only when a verdict or kernel needs it.
     */
    public XpuKernelProvider() {
        this.configured = Optional.empty();
    }

    /**
     * A provider configured by its host (e.g. bound through Guice); the settings are not read.
     *
     * @param options how it judges devices and builds kernels
     */
    public XpuKernelProvider(XpuOptions options) {
        this.configured = Optional.of(Objects.requireNonNull(options, "options"));
    }

    /** @return the options in force: the configured ones, else those the settings describe now */
    public XpuOptions options() {
        return configured.orElseGet(XpuOptions::fromSettings);
    }

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String description() {
        return "OpenCL C kernels for Intel Xe GPUs (MXFP4 or BF16 weights, BF16/F32 activations)";
    }

    @Override
    public int priority(MoeLayerSpec spec, DeviceInfo device) {
        return device.vendor() == Vendor.INTEL && device.arch().startsWith("xe") ? Priority.PORTABLE
                : Priority.PORTABLE_ELSEWHERE;
    }

    @Override
    public SupportVerdict isSupported(MoeLayerSpec spec, DeviceInfo device) {
        return XpuSupport.judge(spec, device, options().anyDevice());
    }

    @Override
    public HostAvailability hostAvailability() {
        if (!OpenCl.isAvailable()) {
            return HostAvailability.no("OpenCL is unavailable: "
                    + OpenCl.unavailabilityCause().map(Throwable::getMessage).orElse("unknown"));
        }
        try {
            List<DeviceInfo> devices = OpenCl.devices().stream().map(ClDevice::toDeviceInfo).toList();
            List<String> names = devices.stream().map(d -> d.id() + " " + d.name() + " (" + d.arch() + ")").toList();
            boolean xe = devices.stream().anyMatch(d -> d.vendor() == Vendor.INTEL && d.arch().startsWith("xe"));
            if (xe) {
                return HostAvailability.yes("OpenCL devices " + names);
            }
            if (devices.isEmpty()) {
                return HostAvailability.no("no OpenCL device found");
            }
            return options().anyDevice()
                    ? HostAvailability.yes("no Intel Xe GPU; " + XpuSettings.ANY_DEVICE.name() + "=true, OpenCL devices "
                            + names)
                    : HostAvailability.no("no Intel Xe GPU among the OpenCL devices " + names + "; set -D"
                    + XpuSettings.ANY_DEVICE.name() + "=true to use them");
        } catch (OpenClException | IllegalStateException e) {
            return HostAvailability.no("OpenCL probing failed: " + e.getMessage());
        }
    }

    @Override
    public String toString() {
        return "XpuKernelProvider[" + ID + ", OpenCL C kernels]";
    }

    @Override
    public MoeKernel create(MoeLayerSpec spec, DeviceInfo device) {
        return create(spec, device, XpuPrograms.source(), options().path());
    }

    /**
     * Measures the OpenCL device's copy bandwidth (512 MiB float4 copy) and FP32 FMA peak; the xpu
     * kernels do FP32 arithmetic on decoded weights, so FP32 is their compute ceiling.
     */
    @Override
    public Ceilings measureCeilings(DeviceInfo device) {
        OpenCl.ensureAvailability();
        ClDevice cl = openClDevice(device);
        return XpuCeilings.measure(cl, 512L << 20);
    }

    /**
     * Creates a kernel from the given OpenCL source (tests pass a broken one) and kernel path
     * ({@code auto}, {@code subgroup}, {@code portable}).
     */
    XpuMoeKernel create(MoeLayerSpec spec, DeviceInfo device, String source, String requested) {
        SupportVerdict.requireSupported(this, spec, device);
        if (device.simulated()) {
            throw new BadInputException("xpu cannot create a kernel on the simulated device " + device.id()
                    + "; pick a real OpenCL device (moe-oracle devices)");
        }
        ClDevice cl = openClDevice(device);
        KernelPath path = XpuPrograms.choosePath(cl, requested);
        return new XpuMoeKernel(spec, device, cl, path, !requested.equals("auto"), options().blockReads(), source);
    }

    /** The driver's device behind a device's OpenCL address (its own, or an alias of the same GPU). */
    private static ClDevice openClDevice(DeviceInfo device) {
        try {
            OpenCl.ensureAvailability();
        } catch (IllegalStateException e) {
            throw new NativeFailureException("clGetPlatformIDs", "", e.getMessage(), "xpu cannot run on "
                    + device.id() + ": " + e.getMessage(), e);
        }
        DeviceAddress.OpenCl address = device.address(DeviceAddress.OpenCl.class).orElseThrow(() ->
                new BadInputException(device.describe() + " has no OpenCL address; pick its opencl:P:D entry"
                        + " (moe-oracle devices)"));
        return OpenCl.device(address.id()).orElseThrow(() -> new BadInputException("device " + address.id()
                + " is not an OpenCL device of this host; OpenCL lists "
                + OpenCl.devices().stream().map(ClDevice::id).toList()));
    }
}
