package io.moeoracle.core.device;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.device.DeviceFeatures;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.SimulatedDeviceCatalogue;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.core.MoeOracleException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
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

    /** A backend's own catalogue, found with ServiceLoader. */
    public static final class AcmeCatalogue implements SimulatedDeviceCatalogue {
        /** For ServiceLoader. */
        public AcmeCatalogue() {
        }

        @Override
        public String id() {
            return "acme";
        }

        @Override
        public List<DeviceInfo> devices() {
            return List.of(SimulatedDeviceCatalogue.device("acme-x1", Vendor.OTHER, "acme1", "ACME X1", 96, 64L << 30,
                            Set.of(DeviceFeatures.BF16)),
                    // breaks the contract (not simulated): skipped, with the reason
                    new DeviceInfo("sim:acme-real", Vendor.OTHER, "acme1", "ACME", 1, 1, Set.of(), false),
                    // takes a built-in id: skipped, the built-in one stays
                    SimulatedDeviceCatalogue.device("sm_90", Vendor.OTHER, "acme1", "not an H100", 1, 1, Set.of()));
        }
    }

    @Test
    void backendsAddDevicesWithAServiceLoaderCatalogueAndAFile(@TempDir Path dir) throws Exception {
        Path services = dir.resolve("classes/META-INF/services/" + SimulatedDeviceCatalogue.class.getName());
        Files.createDirectories(services.getParent());
        Files.writeString(services, AcmeCatalogue.class.getName() + "\n");
        Path file = dir.resolve("devices.tsv");
        Files.writeString(file, "acme-x2 | other | acme2 | ACME X2 | 128 | 96GiB | bf16,fp8\n");
        String before = System.getProperty(SimulatedDevices.FILES_PROPERTY);
        System.setProperty(SimulatedDevices.FILES_PROPERTY, file + java.io.File.pathSeparator + dir.resolve("missing.tsv"));
        try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.resolve("classes").toUri().toURL()},
                getClass().getClassLoader())) {
            SimulatedDevices sims = SimulatedDevices.discover(Set.of(loader));
            assertThat(sims.deviceIds()).startsWith(SimulatedDevices.ids().toArray(String[]::new))
                    .endsWith("sim:acme-x1", "sim:acme-x2");
            assertThat(sims.device("sim:acme-x2").memoryBytes()).isEqualTo(96L << 30);
            assertThat(sims.device("sim:sm_90").name()).isEqualTo("NVIDIA H100 80GB HBM3");
            assertThat(sims.problems()).anySatisfy(p -> assertThat(p).contains("sim:acme-real", "not marked simulated"))
                    .anySatisfy(p -> assertThat(p).contains("sim:sm_90 again", "builtin"))
                    .anySatisfy(p -> assertThat(p).contains("missing.tsv", SimulatedDevices.FILES_PROPERTY));
        } finally {
            if (before == null) {
                System.clearProperty(SimulatedDevices.FILES_PROPERTY);
            } else {
                System.setProperty(SimulatedDevices.FILES_PROPERTY, before);
            }
        }
    }
}
