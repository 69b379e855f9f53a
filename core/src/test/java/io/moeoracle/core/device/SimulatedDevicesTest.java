package io.moeoracle.core.device;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.core.MoeOracleException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SimulatedDevicesTest {

    @Test
    void listsEveryDocumentedDevice() {
        assertThat(SimulatedDevices.ids()).containsExactly("sim:sm_80", "sim:sm_89", "sim:sm_90", "sim:sm_100",
                "sim:gfx942", "sim:gfx950", "sim:xe-hpc", "sim:cpu-avx512", "sim:cpu-avx2");
        assertThat(SimulatedDevices.all()).extracting(DeviceInfo::id).isEqualTo(SimulatedDevices.ids());
    }

    @ParameterizedTest
    @CsvSource({
        "sim:sm_80, NVIDIA, sm_80",
        "sim:sm_89, NVIDIA, sm_89",
        "sim:sm_90, NVIDIA, sm_90",
        "sim:sm_100, NVIDIA, sm_100",
        "sim:gfx942, AMD, gfx942",
        "sim:gfx950, AMD, gfx950",
        "sim:xe-hpc, INTEL, xe-hpc",
        "sim:cpu-avx512, CPU, x86-64-avx512",
        "sim:cpu-avx2, CPU, x86-64-avx2"})
    void eachDeviceIsSimulatedWithItsVendorAndArch(String id, Vendor vendor, String arch) {
        DeviceInfo d = SimulatedDevices.get(id);
        assertThat(d.id()).isEqualTo(id);
        assertThat(d.vendor()).isEqualTo(vendor);
        assertThat(d.arch()).isEqualTo(arch);
        assertThat(d.simulated()).isTrue();
        assertThat(d.computeUnits()).isPositive();
        assertThat(d.memoryBytes()).isGreaterThan(16L << 30);
        assertThat(d.name()).isNotBlank();
        assertThat(d.features()).isNotEmpty();
    }

    @Test
    void nvidiaFeaturesFollowTheArchitecture() {
        assertThat(SimulatedDevices.get("sim:sm_80").features()).contains("bf16").doesNotContain("fp8", "wgmma", "fp4");
        assertThat(SimulatedDevices.get("sim:sm_89").features()).contains("fp8").doesNotContain("wgmma", "fp4");
        assertThat(SimulatedDevices.get("sim:sm_90").features()).contains("fp8", "wgmma").doesNotContain("fp4");
        assertThat(SimulatedDevices.get("sim:sm_100").features()).contains("fp8", "fp4");
        assertThat(SimulatedDevices.get("sim:sm_90").smVersion()).hasValue(90);
        assertThat(SimulatedDevices.get("sim:sm_100").smVersion()).hasValue(100);
    }

    @Test
    void cpuFeaturesAreCpuinfoFlags() {
        assertThat(SimulatedDevices.get("sim:cpu-avx512").features())
                .contains("avx512f", "avx512bw", "avx512_bf16", "fma", "avx2");
        assertThat(SimulatedDevices.get("sim:cpu-avx2").features()).containsExactlyInAnyOrder("avx2", "fma");
    }

    @Test
    void idsAreTrimmedAndCaseInsensitive() {
        assertThat(SimulatedDevices.get(" SIM:SM_90 ").id()).isEqualTo("sim:sm_90");
        assertThat(SimulatedDevices.isSimulatedId("Sim:anything")).isTrue();
        assertThat(SimulatedDevices.isSimulatedId("cuda:0")).isFalse();
    }

    @Test
    void anUnknownIdListsTheKnownOnesAndTheDevicesCommand() {
        assertThatThrownBy(() -> SimulatedDevices.get("sim:sm_75"))
                .isInstanceOf(UnknownDeviceException.class)
                .isInstanceOf(MoeOracleException.class)
                .hasMessageStartingWith("unknown simulated device 'sim:sm_75'")
                .hasMessageContaining(String.join(", ", SimulatedDevices.ids()))
                .hasMessageContaining("moe-oracle devices")
                .satisfies(e -> {
                    UnknownDeviceException u = (UnknownDeviceException) e;
                    assertThat(u.requested()).isEqualTo("sim:sm_75");
                    assertThat(u.known()).isEqualTo(SimulatedDevices.ids());
                });
    }
}
