package io.moeoracle.api.device;

import static io.moeoracle.api.device.DeviceFeatures.AVX2;
import static io.moeoracle.api.device.DeviceFeatures.AVX512BW;
import static io.moeoracle.api.device.DeviceFeatures.AVX512F;
import static io.moeoracle.api.device.DeviceFeatures.AVX512VL;
import static io.moeoracle.api.device.DeviceFeatures.AVX512_BF16;
import static io.moeoracle.api.device.DeviceFeatures.BF16;
import static io.moeoracle.api.device.DeviceFeatures.CL_INTEL_SUBGROUPS;
import static io.moeoracle.api.device.DeviceFeatures.CL_KHR_SUBGROUPS;
import static io.moeoracle.api.device.DeviceFeatures.CP_ASYNC;
import static io.moeoracle.api.device.DeviceFeatures.DPAS;
import static io.moeoracle.api.device.DeviceFeatures.FMA;
import static io.moeoracle.api.device.DeviceFeatures.FP4;
import static io.moeoracle.api.device.DeviceFeatures.FP6;
import static io.moeoracle.api.device.DeviceFeatures.FP64;
import static io.moeoracle.api.device.DeviceFeatures.FP8;
import static io.moeoracle.api.device.DeviceFeatures.FP8_FNUZ;
import static io.moeoracle.api.device.DeviceFeatures.FP8_OCP;
import static io.moeoracle.api.device.DeviceFeatures.MFMA;
import static io.moeoracle.api.device.DeviceFeatures.TCGEN05;
import static io.moeoracle.api.device.DeviceFeatures.TF32;
import static io.moeoracle.api.device.DeviceFeatures.TMA;
import static io.moeoracle.api.device.DeviceFeatures.WGMMA;

import java.util.List;
import java.util.Set;

/** The data of {@link SimulatedDeviceCatalogue#builtIn()}. */
final class BuiltInSimulatedDevices implements SimulatedDeviceCatalogue {
    static final SimulatedDeviceCatalogue CATALOGUE = new BuiltInSimulatedDevices();
    private static final long GIB = 1L << 30;
    private static final long GB = 1_000_000_000L;

    private final List<DeviceInfo> devices = List.of(
            SimulatedDeviceCatalogue.device("sm_80", Vendor.NVIDIA, "sm_80", "NVIDIA A100-SXM4-80GB", 108, 80 * GIB,
                    Set.of(BF16, TF32, CP_ASYNC)),
            SimulatedDeviceCatalogue.device("sm_89", Vendor.NVIDIA, "sm_89", "NVIDIA L40S", 142, 48 * GIB,
                    Set.of(BF16, TF32, CP_ASYNC, FP8)),
            SimulatedDeviceCatalogue.device("sm_90", Vendor.NVIDIA, "sm_90", "NVIDIA H100 80GB HBM3", 132, 80 * GIB,
                    Set.of(BF16, TF32, CP_ASYNC, FP8, WGMMA, TMA)),
            SimulatedDeviceCatalogue.device("sm_100", Vendor.NVIDIA, "sm_100", "NVIDIA B200", 148, 180 * GB,
                    Set.of(BF16, TF32, CP_ASYNC, FP8, FP4, TMA, TCGEN05)),
            SimulatedDeviceCatalogue.device("gfx942", Vendor.AMD, "gfx942", "AMD Instinct MI300X", 304, 192 * GIB,
                    Set.of(BF16, MFMA, FP8, FP8_FNUZ)),
            SimulatedDeviceCatalogue.device("gfx950", Vendor.AMD, "gfx950", "AMD Instinct MI355X", 256, 288 * GIB,
                    Set.of(BF16, MFMA, FP8, FP8_OCP, FP6, FP4)),
            SimulatedDeviceCatalogue.device("xe-hpc", Vendor.INTEL, "xe-hpc", "Intel Data Center GPU Max 1550", 128,
                    128 * GIB, Set.of(BF16, DPAS, FP64, CL_KHR_SUBGROUPS, CL_INTEL_SUBGROUPS)),
            SimulatedDeviceCatalogue.device("cpu-avx512", Vendor.CPU, HostCpuFeatures.ARCH_AVX512,
                    "simulated x86-64 CPU with AVX-512 BF16 (Sapphire Rapids class)", 32, 256 * GIB,
                    Set.of(AVX512F, AVX512BW, AVX512VL, AVX512_BF16, FMA, AVX2)),
            SimulatedDeviceCatalogue.device("cpu-avx2", Vendor.CPU, HostCpuFeatures.ARCH_AVX2,
                    "simulated x86-64 CPU with AVX2 and FMA", 16, 64 * GIB, Set.of(AVX2, FMA)));

    private BuiltInSimulatedDevices() {
    }

    @Override
    public String id() {
        return "builtin";
    }

    @Override
    public List<DeviceInfo> devices() {
        return devices;
    }
}
