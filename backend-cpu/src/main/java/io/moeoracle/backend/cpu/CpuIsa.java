package io.moeoracle.backend.cpu;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.HostCpuFeatures;
import java.util.Locale;
import java.util.Optional;

/** The kernel sets in libmoeoracle_cpu, best last; the code is the library's ISA number. */
public enum CpuIsa {
    /** Portable C, any CPU. */
    SCALAR(0, "scalar"),
    /** Portable C vectorized by the compiler for AVX2 with FMA. */
    AVX2(1, "avx2-fma"),
    /** Hand-written AVX-512 with vdpbf16ps and MXFP4 decoded in registers. */
    AVX512_BF16(2, "avx512-bf16");

    private final int code;
    private final String label;

    CpuIsa(int code, String label) {
        this.code = code;
        this.label = label;
    }

    /** @return the library's ISA code */
    public int code() {
        return code;
    }

    /** @return a short name, e.g. {@code avx512-bf16} */
    public String label() {
        return label;
    }

    /**
     * @param code the library's ISA code
     * @return the ISA
     */
    public static CpuIsa ofCode(int code) {
        for (CpuIsa isa : values()) {
            if (isa.code == code) {
                return isa;
            }
        }
        throw new IllegalArgumentException("unknown ISA code " + code);
    }

    /**
     * The best kernel set a (possibly simulated) device can run. Its features decide (as the host
     * probe, {@link HostCpuFeatures}, reports them): AVX-512 BF16 needs avx512f, bw, vl and
     * avx512_bf16, so an AVX-512 CPU without BF16 runs the AVX2 kernels. A device described by its
     * arch alone (no features) is judged by the arch name, with the same rule.
     *
     * @param device the device
     * @return the ISA
     */
    public static CpuIsa forDevice(DeviceInfo device) {
        if (device.features().isEmpty()) {
            String arch = device.arch().toLowerCase(Locale.ROOT);
            return arch.contains("avx512") && arch.contains("bf16") ? AVX512_BF16
                    : arch.contains("avx512") || arch.contains("avx2") ? AVX2 : SCALAR;
        }
        if (HostCpuFeatures.hasAvx512Bf16(device)) {
            return AVX512_BF16;
        }
        if (device.hasFeature("avx2") && device.hasFeature("fma")) {
            return AVX2;
        }
        return SCALAR;
    }

    /**
     * @param device a CPU
     * @return whether it has AVX-512 but not the BF16 dot products the AVX-512 kernels need
     */
    public static boolean avx512WithoutBf16(DeviceInfo device) {
        return device.hasFeature("avx512f") && !HostCpuFeatures.hasAvx512Bf16(device);
    }

    /**
     * Parses the {@code moe.cpu.isa} override.
     *
     * @param text {@code avx512}, {@code avx512-bf16}, {@code avx2}, {@code avx2-fma} or {@code scalar}
     * @return the ISA, or empty for blank text
     * @throws IllegalArgumentException naming the accepted values
     */
    public static Optional<CpuIsa> parse(String text) {
        if (text == null || text.isBlank()) {
            return Optional.empty();
        }
        return Optional.of(switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "avx512", "avx512-bf16", "avx512_bf16" -> AVX512_BF16;
            case "avx2", "avx2-fma" -> AVX2;
            case "scalar" -> SCALAR;
            default -> throw new IllegalArgumentException("moe.cpu.isa '" + text
                    + "' is unknown; use one of avx512, avx2, scalar");
        });
    }

    @Override
    public String toString() {
        return label;
    }
}
