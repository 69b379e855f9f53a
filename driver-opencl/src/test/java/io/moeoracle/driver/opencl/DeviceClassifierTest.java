package io.moeoracle.driver.opencl;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import java.util.OptionalInt;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DeviceClassifierTest {

    private static DeviceInfo classify(String name, String vendor, int vendorId, long type, String platform,
                                       OptionalInt ip, OptionalInt cc) {
        return DeviceClassifier.classify(new DeviceClassifier.Facts("opencl:0:0", name, vendor, vendorId, type,
                platform, Set.of("cl_khr_fp64"), 64, 1L << 34, 65536, 1024, ip, cc));
    }

    private static int ip(int major, int minor) {
        return (major << 22) | (minor << 12);
    }

    @Test
    void intelGpusMapToXeFromIpVersion() {
        assertThat(classify("Intel(R) Data Center GPU Max 1550", "Intel(R) Corporation", 0x8086, ClDevice.TYPE_GPU,
                "Intel(R) OpenCL Graphics", OptionalInt.of(ip(12, 60)), OptionalInt.empty()))
                .satisfies(d -> {
                    assertThat(d.vendor()).isEqualTo(Vendor.INTEL);
                    assertThat(d.arch()).isEqualTo("xe-hpc");
                });
        assertThat(classify("Intel(R) Arc(TM) A770 Graphics", "Intel(R) Corporation", 0x8086, ClDevice.TYPE_GPU,
                "Intel(R) OpenCL Graphics", OptionalInt.of(ip(12, 55)), OptionalInt.empty()).arch()).isEqualTo("xe-hpg");
        assertThat(classify("Intel(R) Iris(R) Xe Graphics", "Intel(R) Corporation", 0x8086, ClDevice.TYPE_GPU,
                "Intel(R) OpenCL Graphics", OptionalInt.of(ip(12, 0)), OptionalInt.empty()).arch()).isEqualTo("xe-lp");
        assertThat(classify("Intel(R) Arc(TM) B580 Graphics", "Intel(R) Corporation", 0x8086, ClDevice.TYPE_GPU,
                "Intel(R) OpenCL Graphics", OptionalInt.of(ip(20, 1)), OptionalInt.empty()).arch()).isEqualTo("xe2-hpg");
        assertThat(classify("Intel(R) UHD Graphics 620", "Intel(R) Corporation", 0x8086, ClDevice.TYPE_GPU,
                "Intel(R) OpenCL Graphics", OptionalInt.of(ip(9, 0)), OptionalInt.empty()).arch()).isEqualTo("intel-gen9");
    }

    @Test
    void intelGpusMapToXeFromNameWithoutIpVersion() {
        assertThat(DeviceClassifier.intelArch("intel(r) data center gpu max 1100", OptionalInt.empty())).isEqualTo("xe-hpc");
        assertThat(DeviceClassifier.intelArch("intel(r) arc(tm) a380 graphics", OptionalInt.empty())).isEqualTo("xe-hpg");
        assertThat(DeviceClassifier.intelArch("intel(r) iris(r) xe graphics", OptionalInt.empty())).isEqualTo("xe-lp");
        assertThat(DeviceClassifier.intelArch("intel(r) hd graphics 530", OptionalInt.empty())).isEqualTo("intel-gpu");
    }

    @Test
    void otherVendorsAreReportedTruthfully() {
        DeviceInfo nv = classify("NVIDIA H100 80GB HBM3", "NVIDIA Corporation", 0x10DE, ClDevice.TYPE_GPU,
                "NVIDIA CUDA", OptionalInt.empty(), OptionalInt.of(90));
        assertThat(nv.vendor()).isEqualTo(Vendor.NVIDIA);
        assertThat(nv.arch()).isEqualTo("sm_90");
        assertThat(nv.smVersion()).hasValue(90);
        DeviceInfo pocl = classify("pthread-skylake-avx512-AMD EPYC", "AuthenticAMD", 0x1022, ClDevice.TYPE_CPU,
                "Portable Computing Language", OptionalInt.empty(), OptionalInt.empty());
        assertThat(pocl.vendor()).isEqualTo(Vendor.CPU);
        assertThat(pocl.arch()).isEqualTo("opencl-cpu-pocl");
        assertThat(pocl.features()).contains("opencl", "local_mem_bytes:65536", "max_work_group_size:1024", "cl_khr_fp64");
        DeviceInfo amd = classify("gfx90a:sramecc+:xnack-", "Advanced Micro Devices, Inc.", 0x1002, ClDevice.TYPE_GPU,
                "AMD Accelerated Parallel Processing", OptionalInt.empty(), OptionalInt.empty());
        assertThat(amd.vendor()).isEqualTo(Vendor.AMD);
        assertThat(amd.arch()).isEqualTo("gfx90a");
        DeviceInfo intelCpu = classify("Intel(R) Xeon(R)", "Intel(R) Corporation", 0x8086, ClDevice.TYPE_CPU,
                "Intel(R) OpenCL", OptionalInt.empty(), OptionalInt.empty());
        assertThat(intelCpu.vendor()).isEqualTo(Vendor.CPU);
        assertThat(intelCpu.arch()).isEqualTo("opencl-cpu-intel");
    }
}
