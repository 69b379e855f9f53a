package io.moeoracle.driver.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.moeoracle.api.DeviceProbe;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

class CudaDeviceProbeTest {

    @Test
    void is_found_by_the_service_loader() {
        assertThat(ServiceLoader.load(DeviceProbe.class).stream().map(ServiceLoader.Provider::type))
                .contains(CudaDeviceProbe.class);
    }

    @Test
    void without_a_driver_reports_the_reason_and_no_devices() {
        assumeFalse(CudaDriver.isAvailable(), "this machine has a working CUDA driver");

        DeviceProbe.Result result = new CudaDeviceProbe().probe();

        assertThat(result.probeId()).isEqualTo("cuda");
        assertThat(result.devices()).isEmpty();
        assertThat(result.reason()).hasValueSatisfying(r -> assertThat(r).containsAnyOf("libcuda", "no CUDA device",
                "native access"));
        assertThat(CudaDriver.unavailabilityCause()).isPresent();
        assertThatThrownBy(CudaDriver::load).isInstanceOf(CudaUnavailableException.class)
                .hasMessage(result.reason().orElseThrow());
    }

    @Test
    void features_follow_the_compute_capability() {
        assertThat(CudaDevice.featuresOf(75)).doesNotContain("bf16");
        assertThat(CudaDevice.featuresOf(80)).contains("bf16").doesNotContain("fp8");
        assertThat(CudaDevice.featuresOf(89)).contains("bf16", "fp8").doesNotContain("wgmma");
        assertThat(CudaDevice.featuresOf(90)).contains("fp8", "wgmma", "tma").doesNotContain("fp4");
        assertThat(CudaDevice.featuresOf(100)).contains("fp4", "tma").doesNotContain("wgmma");
    }
}
