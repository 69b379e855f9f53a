package io.moeoracle.backend.cpu;

import io.moeoracle.api.HostAvailability;
import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.Priority;
import io.moeoracle.api.RooflineProbe;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.spec.ActivationFormat;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.WeightFormat;
import io.moeoracle.backend.cpu.ffi.MoeCpuNative;
import java.util.Locale;
import java.util.Optional;

/**
 * The {@code cpu} provider: MXFP4 or BF16 expert weights with BF16 activations on the host CPU,
 * run by C kernels through FFM. Settings ({@link CpuSettings}): {@code moe.cpu.threads} (worker
 * threads, default all cores), {@code moe.cpu.isa} (force a lower kernel set: {@code avx2} or
 * {@code scalar}), {@code moe.native.cache} (where the library is extracted). A host can bind a
 * configured instance instead: {@code new CpuMoeProvider(CpuOptions.builder().threads(4).build())}.
 */
public final class CpuMoeProvider implements MoeKernelProvider, RooflineProbe {
    /** The provider id. */
    public static final String ID = "cpu";

    private final Optional<CpuOptions> configured;

    /**
     * Public no-argument constructor for {@link java.util.ServiceLoader}; loads nothing. Its options
     * come from {@link CpuSettings}, read at each use.
     */
    public CpuMoeProvider() {
        this.configured = Optional.empty();
    }

    /**
     * A provider configured by its host (e.g. bound through Guice); the settings are not read.
     *
     * @param options how its kernels run
     */
    public CpuMoeProvider(CpuOptions options) {
        this.configured = Optional.of(java.util.Objects.requireNonNull(options, "options"));
    }

    /** @return the options in force: the configured ones, else those the settings describe now */
    public CpuOptions options() {
        return configured.orElseGet(CpuOptions::fromSettings);
    }

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String description() {
        return "C kernels on the host CPU (AVX-512 BF16 / AVX2+FMA / scalar), MXFP4 decoded in registers";
    }

    @Override
    public int priority(MoeLayerSpec spec, DeviceInfo device) {
        // vendor-tuned (AVX-512 BF16 / AVX2 kernels) at the band's floor: a better-tuned CPU library may rank above
        return device.vendor() == Vendor.CPU ? Priority.VENDOR_TUNED_BASELINE : Priority.Band.PORTABLE.min();
    }

    @Override
    public SupportVerdict isSupported(MoeLayerSpec spec, DeviceInfo device) {
        if (device.vendor() != Vendor.CPU) {
            return SupportVerdict.unsupported("cpu runs on the host CPU; " + device.describe() + " is "
                    + device.vendor().device(), "use --device cpu");
        }
        if (!isX86(device)) {
            return SupportVerdict.unsupported("no native build of the cpu kernels for " + device.arch()
                    + " (x86-64 only)", "use the emulation backend (--backend emulation)");
        }
        WeightFormat w = spec.quant().weights();
        if (w.kind() != WeightFormat.Kind.MXFP4 && w.kind() != WeightFormat.Kind.BF16) {
            return SupportVerdict.unsupported(w + " weights are not implemented by cpu (it runs mxfp4 and bf16)",
                    "use --quant mxfp4 or --quant bf16, or the emulation backend");
        }
        if (spec.quant().activations().isQuantized()) {
            return SupportVerdict.unsupported(spec.quant().activations() + " activations are not implemented by cpu:"
                    + " its kernels keep activations in BF16", "use --activation bf16, or the emulation backend for "
                    + spec.quant().activations() + " numerics");
        }
        if (spec.activationFormat() != ActivationFormat.STANDARD) {
            return SupportVerdict.unsupported("the batched (expert-parallel) activation format is not implemented by cpu",
                    "use the standard activation format");
        }
        if (spec.lora() && device.memoryBytes() > 0 && loraBytes(spec) > device.memoryBytes() / 2) {
            return SupportVerdict.unsupported("cpu keeps LoRA factors in fp32: " + spec.adapterSlots() + " slots of rank "
                    + spec.maxLoraRank() + " need up to " + (loraBytes(spec) >> 20) + " MiB, more than half of "
                    + device.describe() + "'s memory", "use fewer adapter slots or a lower maxLoraRank");
        }
        if (spec.expertParallelSize() != 1) {
            return SupportVerdict.unsupported("expert parallelism (size " + spec.expertParallelSize()
                    + ") is not implemented by cpu", "run all experts in one process (expertParallelSize 1)");
        }
        if (spec.hiddenSize() % 32 != 0 || spec.intermediateSize() % 32 != 0) {
            return SupportVerdict.unsupported("cpu needs hidden and intermediate sizes that are multiples of 32; the spec"
                    + " has H=" + spec.hiddenSize() + ", I=" + spec.intermediateSize(),
                    "pad the weights to multiples of 32, or use the emulation backend");
        }
        CpuIsa isa = CpuIsa.forDevice(device);
        if (!device.simulated()) {
            var cause = MoeCpuNative.unavailabilityCause();
            if (cause.isPresent()) {
                return SupportVerdict.unsupported("the cpu native library is not available: " + cause.get().getMessage(),
                        "see hostAvailability; rebuild with a C compiler or set -D"
                                + io.moeoracle.nativeload.NativeSettings.CACHE.name() + "=<folder>");
            }
            try {
                isa = effectiveIsa(MoeCpuNative.get(), device); // what will actually run here
            } catch (IllegalArgumentException e) {
                return SupportVerdict.unsupported(e.getMessage(), "fix or remove the setting named (-D" + CpuSettings.ISA.name() + ", -D"
                        + CpuSettings.THREADS.name() + ")");
            }
        }
        return SupportVerdict.supported((w.kind() == WeightFormat.Kind.MXFP4 ? "MXFP4 decoded in registers" : "BF16 weights")
                + ", BF16 activations, " + isaPhrase(isa, device) + (device.simulated() ? "" : ", " + threads() + " threads")
                + (spec.lora() ? ", LoRA up to rank " + spec.maxLoraRank() + " in " + spec.adapterSlots() + " slots" : ""));
    }

    /** @return the most bytes the resident LoRA factors take (fp32, every slot at the largest rank) */
    static long loraBytes(MoeLayerSpec spec) {
        long perExpert = (long) spec.maxLoraRank() * 3 * ((long) spec.hiddenSize() + spec.intermediateSize()) * 4;
        return perExpert * spec.localExperts() * spec.adapterSlots();
    }

    /** Names the kernel set that runs, and why it is not the AVX-512 one on an AVX-512 CPU without BF16. */
    static String isaPhrase(CpuIsa isa, DeviceInfo device) {
        String kernels = switch (isa) {
            case AVX512_BF16 -> "AVX-512 BF16 kernels (vdpbf16ps)";
            case AVX2 -> "AVX2+FMA kernels (fp32)";
            case SCALAR -> "scalar C kernels (slow)";
        };
        if (isa != CpuIsa.AVX512_BF16 && CpuIsa.avx512WithoutBf16(device)) {
            return kernels + ": this AVX-512 CPU has no AVX512_BF16, which the AVX-512 kernels need";
        }
        return kernels;
    }

    private static boolean isX86(DeviceInfo device) {
        String a = device.arch().toLowerCase(Locale.ROOT);
        return a.startsWith("x86") || a.startsWith("amd64") || a.contains("avx") || a.startsWith("cpu");
    }

    @Override
    public HostAvailability hostAvailability() {
        var cause = MoeCpuNative.unavailabilityCause();
        if (cause.isPresent()) {
            String msg = cause.get().getMessage();
            return HostAvailability.no(msg.startsWith("native library not built") ? msg
                    : "native library not loaded: " + msg);
        }
        MoeCpuNative n = MoeCpuNative.get();
        return HostAvailability.yes("libmoeoracle_cpu ABI " + MoeCpuNative.ABI_VERSION + " from " + n.path() + " ("
                + n.origin() + "), host ISA " + n.isaName(n.hostIsa()) + ", " + threads() + " threads");
    }

    @Override
    public String toString() {
        return "CpuMoeProvider[" + ID + ", C kernels on the host CPU]";
    }

    @Override
    public MoeKernel create(MoeLayerSpec spec, DeviceInfo device) {
        SupportVerdict.requireSupported(this, spec, device);
        if (device.simulated()) {
            throw new BadInputException("cpu cannot create a kernel on the simulated device " + device.describe()
                    + "; pass the real host CPU (HostCpu.device())");
        }
        MoeCpuNative n = MoeCpuNative.get();
        return new CpuMoeKernel(n, spec, device, effectiveIsa(n, device), threads());
    }

    /**
     * The kernel set used on a device: the best of host and device, lowered by the options' ISA.
     *
     * @param n the bindings
     * @param device the device
     * @return the ISA
     */
    CpuIsa effectiveIsa(MoeCpuNative n, DeviceInfo device) {
        CpuIsa host = CpuIsa.ofCode(n.hostIsa());
        CpuIsa dev = CpuIsa.forDevice(device);
        CpuIsa isa = host.compareTo(dev) < 0 ? host : dev;
        var forced = options().isa();
        if (forced.isPresent()) {
            if (forced.get().compareTo(host) > 0) {
                throw new IllegalArgumentException(CpuSettings.ISA.describe() + " = " + forced.get() + " asks for more than this CPU"
                        + " runs (" + host + "); use " + host + " or lower");
            }
            isa = forced.get();
        }
        return isa;
    }

    /** @return the worker threads per kernel ({@code moe.cpu.threads}, default all cores) */
    int threads() {
        return options().threadCount();
    }

    @Override
    public Ceilings measureCeilings(DeviceInfo device) {
        MoeCpuNative n = MoeCpuNative.get();
        CpuIsa isa = effectiveIsa(n, device);
        int threads = threads();
        long bytes = options().probeBytes();
        double bw = n.probeReadBandwidth(isa.code(), threads, bytes, 5);
        double peak = n.probeDotPeak(isa.code(), threads, 20_000_000L, 3);
        String dot = switch (isa) {
            case AVX512_BF16 -> "vdpbf16ps zmm, 16 independent accumulators";
            case AVX2 -> "vfmadd ymm fp32, 12 independent accumulators";
            case SCALAR -> "scalar fp32 multiply-add, 8 independent chains";
        };
        return new Ceilings(bw, peak,
                "read of a " + (bytes >> 20) + " MiB buffer, " + threads + " threads, "
                        + (isa == CpuIsa.AVX512_BF16 ? "512-bit" : "compiler-vectorized") + " loads, best of 5",
                dot + ", " + threads + " threads, best of 3");
    }
}
