package io.moeoracle.api.device;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SimulatedDeviceCatalogueTest {

    @Test
    void theBuiltInCatalogueMeetsItsOwnContract() {
        List<DeviceInfo> devices = SimulatedDeviceCatalogue.builtIn().devices();
        assertThat(devices).extracting(DeviceInfo::id).containsExactly("sim:sm_80", "sim:sm_89", "sim:sm_90",
                "sim:sm_100", "sim:gfx942", "sim:gfx950", "sim:xe-hpc", "sim:cpu-avx512", "sim:cpu-avx2");
        devices.forEach(SimulatedDeviceCatalogue::check);
        DeviceInfo h100 = devices.get(2);
        assertThat(h100.hasFeature(DeviceFeatures.FP8)).isTrue();
        assertThat(h100.hasFeature(DeviceFeatures.TCGEN05)).isFalse();
        assertThat(h100.smVersion()).hasValue(90);
    }

    @Test
    void aFileDescribesAnAuthorsOwnHardware() {
        List<DeviceInfo> parsed = SimulatedDeviceCatalogue.parse("""
                # name  | vendor | arch  | marketing name | units | memory | features
                acme-x1 | other  | acme1 | ACME X1        | 96    | 64GiB  | bf16, FP8

                acme-x0 | Other  | acme0 | ACME X0        | 8     | 1000   | -
                """, "acme.tsv");
        assertThat(parsed).hasSize(2);
        DeviceInfo x1 = parsed.get(0);
        assertThat(x1.id()).isEqualTo("sim:acme-x1");
        assertThat(x1.simulated()).isTrue();
        assertThat(x1.address()).isEqualTo(new DeviceAddress.Simulated("acme-x1"));
        assertThat(x1.memoryBytes()).isEqualTo(64L << 30);
        assertThat(x1.features()).containsExactlyInAnyOrder("bf16", "fp8");
        assertThat(parsed.get(1).features()).isEmpty();
        parsed.forEach(SimulatedDeviceCatalogue::check);
    }

    @Test
    void aBadLineIsNamedWithItsSourceLineAndField() {
        assertThatThrownBy(() -> SimulatedDeviceCatalogue.parse("a | nvidia | sm_90 | x | 1 | 1GiB\n", "f.tsv"))
                .hasMessageContaining("f.tsv line 1").hasMessageContaining("7");
        assertThatThrownBy(() -> SimulatedDeviceCatalogue.parse("\na | acme | sm_90 | x | 1 | 1GiB | -\n", "f.tsv"))
                .hasMessageContaining("f.tsv line 2").hasMessageContaining("vendor 'acme'");
        assertThatThrownBy(() -> SimulatedDeviceCatalogue.parse("a | nvidia | sm_90 | x | 1 | lots | -", "f.tsv"))
                .hasMessageContaining("memory 'lots'");
    }

    @Test
    void aRealDeviceOrAMismatchedAddressBreaksTheContract() {
        DeviceInfo real = new DeviceInfo("cuda:0", Vendor.NVIDIA, "sm_90", "H100", 132, 1, Set.of(), false);
        assertThatThrownBy(() -> SimulatedDeviceCatalogue.check(real)).hasMessageContaining("not marked simulated");
        DeviceInfo odd = new DeviceInfo("acme", Vendor.OTHER, "a", "b", 1, 1, Set.of(), true);
        assertThatThrownBy(() -> SimulatedDeviceCatalogue.check(odd)).hasMessageContaining("sim:NAME");
    }
}
