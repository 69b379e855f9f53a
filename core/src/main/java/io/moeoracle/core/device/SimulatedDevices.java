package io.moeoracle.core.device;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What-if devices ({@code sim:...}) for planning and tests: a provider judges them by its rules for
 * that hardware, while this host need not have it. Feature flags backends may test:
 * <ul>
 *   <li>NVIDIA: {@code bf16}, {@code tf32}, {@code cp_async} (sm_80+); {@code fp8} (sm_89+);
 *       {@code wgmma}, {@code tma} (sm_90); {@code tma}, {@code tcgen05}, {@code fp4} (sm_100);</li>
 *   <li>AMD: {@code bf16}, {@code mfma}, {@code fp8} (gfx942 uses the FNUZ variant, flag
 *       {@code fp8_fnuz}; gfx950 the OCP one, flag {@code fp8_ocp}), {@code fp4}, {@code fp6} (gfx950);</li>
 *   <li>Intel: {@code bf16}, {@code dpas}, {@code fp64}, {@code cl_khr_subgroups}, {@code cl_intel_subgroups};</li>
 *   <li>CPU: the {@code /proc/cpuinfo} flag names, e.g. {@code avx512f}, {@code avx512bw},
 *       {@code avx512_bf16}, {@code avx2}, {@code fma}.</li>
 * </ul>
 */
public final class SimulatedDevices {
    /** Prefix of every simulated device id. */
    public static final String PREFIX = "sim:";
    private static final long GIB = 1L << 30;
    private static final long GB = 1_000_000_000L;
    private static final Map<String, DeviceInfo> DEVICES = build();

    private SimulatedDevices() {
    }

    private static Map<String, DeviceInfo> build() {
        Map<String, DeviceInfo> m = new LinkedHashMap<>();
        Set<String> ampere = Set.of("bf16", "tf32", "cp_async");
        put(m, "sm_80", Vendor.NVIDIA, "NVIDIA A100-SXM4-80GB", 108, 80 * GIB, ampere);
        put(m, "sm_89", Vendor.NVIDIA, "NVIDIA L40S", 142, 48 * GIB, plus(ampere, "fp8"));
        put(m, "sm_90", Vendor.NVIDIA, "NVIDIA H100 80GB HBM3", 132, 80 * GIB, plus(ampere, "fp8", "wgmma", "tma"));
        put(m, "sm_100", Vendor.NVIDIA, "NVIDIA B200", 148, 180 * GB, plus(ampere, "fp8", "fp4", "tma", "tcgen05"));
        put(m, "gfx942", Vendor.AMD, "AMD Instinct MI300X", 304, 192 * GIB, Set.of("bf16", "mfma", "fp8", "fp8_fnuz"));
        put(m, "gfx950", Vendor.AMD, "AMD Instinct MI355X", 256, 288 * GIB,
                Set.of("bf16", "mfma", "fp8", "fp8_ocp", "fp6", "fp4"));
        put(m, "xe-hpc", Vendor.INTEL, "Intel Data Center GPU Max 1550", 128, 128 * GIB,
                Set.of("bf16", "dpas", "fp64", "cl_khr_subgroups", "cl_intel_subgroups"));
        m.put(PREFIX + "cpu-avx512", new DeviceInfo(PREFIX + "cpu-avx512", Vendor.CPU, CpuDeviceProbe.ARCH_AVX512,
                "simulated x86-64 CPU with AVX-512 BF16 (Sapphire Rapids class)", 32, 256 * GIB,
                Set.of("avx512f", "avx512bw", "avx512vl", "avx512_bf16", "fma", "avx2"), true));
        m.put(PREFIX + "cpu-avx2", new DeviceInfo(PREFIX + "cpu-avx2", Vendor.CPU, CpuDeviceProbe.ARCH_AVX2,
                "simulated x86-64 CPU with AVX2 and FMA", 16, 64 * GIB, Set.of("avx2", "fma"), true));
        return m;
    }

    private static Set<String> plus(Set<String> base, String... more) {
        List<String> all = new ArrayList<>(base);
        all.addAll(List.of(more));
        return Set.copyOf(all);
    }

    private static void put(Map<String, DeviceInfo> m, String arch, Vendor vendor, String name, int units, long memory,
                            Set<String> features) {
        String id = PREFIX + arch;
        m.put(id, new DeviceInfo(id, vendor, arch, name, units, memory, features, true));
    }

    /**
     * @param id a simulated device id such as {@code sim:sm_90}
     * @return the device
     * @throws UnknownDeviceException listing the known ids when there is no such device
     */
    public static DeviceInfo get(String id) {
        DeviceInfo d = DEVICES.get(id.trim());
        if (d == null) {
            d = DEVICES.get(id.trim().toLowerCase(java.util.Locale.ROOT));
        }
        if (d == null) {
            throw new UnknownDeviceException(id, ids(), "unknown simulated device '" + id + "'; the simulated devices are "
                    + String.join(", ", ids()) + ". Use one of these, or a real device of this host (run `moe-oracle"
                    + " devices` to list them).");
        }
        return d;
    }

    /** @return every simulated device id, NVIDIA first, CPUs last */
    public static List<String> ids() {
        return List.copyOf(DEVICES.keySet());
    }

    /** @return every simulated device, in the order of {@link #ids()} */
    public static List<DeviceInfo> all() {
        return List.copyOf(DEVICES.values());
    }

    /**
     * @param id a device id
     * @return whether it names a simulated device (it starts with {@code sim:})
     */
    public static boolean isSimulatedId(String id) {
        return id.trim().toLowerCase(java.util.Locale.ROOT).startsWith(PREFIX);
    }
}
