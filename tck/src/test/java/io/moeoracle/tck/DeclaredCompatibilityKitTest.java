package io.moeoracle.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.device.HostCpuFeatures;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.reference.EmulationProvider;
import org.junit.jupiter.api.Test;

/** The declared kit answers from its constructor and refuses a tolerance that could not be one. */
class DeclaredCompatibilityKitTest {
    @Test
    void answersFromTheConstructor() {
        DeclaredCompatibilityKit kit = new DeclaredCompatibilityKit(EmulationProvider::new, HostCpuFeatures::host, 3e-3) {
        };
        assertThat(kit.provider()).isInstanceOf(EmulationProvider.class).isNotSameAs(kit.provider());
        assertThat(kit.device()).isEqualTo(HostCpuFeatures.host());
        assertThat(kit.tolerance(QuantScheme.MXFP4_BF16)).isEqualTo(3e-3);
        assertThat(kit.tolerance(QuantScheme.MXFP4_MXFP8)).isEqualTo(3e-3);
        assertThat(kit.deviceMemoryInUse()).isEmpty();
    }

    @Test
    void refusesANonsenseTolerance() {
        for (double bad : new double[] {0, -1e-2, Double.NaN, Double.POSITIVE_INFINITY}) {
            assertThatThrownBy(() -> new DeclaredCompatibilityKit(EmulationProvider::new, HostCpuFeatures::host, bad) {
            }).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("relative L2 error above 0")
                    .hasMessageContaining(String.valueOf(bad));
        }
        assertThatThrownBy(() -> new DeclaredCompatibilityKit(null, HostCpuFeatures::host, 1e-2) {
        }).isInstanceOf(NullPointerException.class).hasMessageContaining("provider");
    }
}
