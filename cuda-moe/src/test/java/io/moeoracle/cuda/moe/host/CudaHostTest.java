package io.moeoracle.cuda.moe.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.HostAvailability;
import io.moeoracle.api.device.DeviceAddress;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.error.MoeKernelException;
import io.moeoracle.api.error.NativeFailureException;
import io.moeoracle.api.error.UnsupportedSpecException;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.driver.cuda.CudaDriver;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The host check and the device lookup, on what this machine has (no GPU needed). */
class CudaHostTest {
    static final DeviceInfo SIM_SM90 = new DeviceInfo("sim:sm_90", Vendor.NVIDIA, "sm_90", "simulated sm_90", 132,
            80L << 30, Set.of(), true);
    static final DeviceInfo VIA_OPENCL = new DeviceInfo("opencl:1:0", Vendor.NVIDIA, "sm_90", "NVIDIA H100 80GB HBM3",
            132, 80L << 30, Set.of(), false);
    static final MoeLayerSpec SPEC = MoeLayerSpec.builder().experts(32).topK(4).hiddenSize(2880).intermediateSize(2880)
            .quant(QuantScheme.MXFP4_BF16).build();

    private static KernelImage missing() {
        return KernelImage.fatbin("io/moeoracle/backend/x", "x_moe.fatbin", "backend-x", "sm_90a",
                name -> CudaHostTest.class.getResource(name));
    }

    private static KernelImage present() {
        return KernelImage.fatbin("io/moeoracle/cuda/moe/host", "test_image.fatbin", "backend-x", "sm_90a",
                name -> CudaHostTest.class.getResource(name));
    }

    @Test
    @DisplayName("without its kernel image a backend is unavailable, and the reason names the resource and the build")
    void missingImage() {
        HostAvailability a = CudaHost.availability(missing());
        assertThat(a.available()).isFalse();
        assertThat(a.detail()).contains("kernel image not built: io/moeoracle/backend/x/x_moe.fatbin is missing from"
                + " the jar (nvcc was not found when backend-x was built)");
        assertThat(missing().isPresent()).isFalse();
        assertThat(missing().bytes()).isEmpty();
    }

    @Test
    @DisplayName("with its image, availability is the driver's: a reason naming the driver, or its version and devices")
    void presentImage() {
        KernelImage image = present();
        assertThat(image.isPresent()).isTrue();
        assertThat(new String(image.bytes().orElseThrow(), StandardCharsets.UTF_8)).isEqualTo("not a real fatbin\n");
        HostAvailability a = CudaHost.availability(image);
        String detail = a.detail().orElseThrow();
        assertThat(detail).doesNotContain("kernel image");
        if (!CudaDriver.isAvailable()) {
            assertThat(a.available()).isFalse();
            assertThat(detail).startsWith("CUDA driver unavailable: ");
        } else {
            assertThat(detail).startsWith("libcuda ");
            assertThat(a.available()).isEqualTo(!detail.endsWith("but no CUDA device"));
            if (a.available()) {
                assertThat(detail).endsWith("device(s), fatbin sm_90a");
            }
        }
    }

    @Test
    @DisplayName("create without the image fails with the provider, the layer, the resource and the rebuild hint")
    void requireWithoutImage() {
        assertThatThrownBy(() -> missing().require("x-bf16", SPEC, SIM_SM90)).isInstanceOf(UnsupportedSpecException.class)
                .hasMessageStartingWith("x-bf16 cannot run ")
                .hasMessageContaining("kernel image not built: io/moeoracle/backend/x/x_moe.fatbin is missing from the"
                        + " backend-x jar")
                .hasMessageContaining("rebuild backend-x where nvcc exists");
        assertThat(present().require("x-bf16", SPEC, SIM_SM90)).isNotEmpty();
    }

    @Test
    @DisplayName("a simulated device, or one the CUDA driver cannot reach, is refused before the driver is asked")
    void cudaDeviceRefusesWhatCudaCannotRun() {
        assertThatThrownBy(() -> CudaHost.cudaDevice(SIM_SM90, "marlin")).isInstanceOf(BadInputException.class)
                .hasMessage("sim:sm_90 (sm_90, simulated sm_90, simulated) is simulated; marlin needs a real CUDA device"
                        + " (probe one with the cuda DeviceProbe)");
        assertThatThrownBy(() -> CudaHost.cudaDevice(VIA_OPENCL, "flashinfer-bf16")).isInstanceOf(BadInputException.class)
                .hasMessageContaining("opencl:1:0").hasMessageContaining("has no CUDA address; flashinfer-bf16 launches"
                        + " through the CUDA driver: use the GPU's cuda:N device");
        assertThatThrownBy(() -> CudaHost.measureCeilings(SIM_SM90, "triton")).isInstanceOf(BadInputException.class)
                .hasMessageContaining("triton needs a real CUDA device");
    }

    @Test
    @DisplayName("a CUDA ordinal the driver lacks (or no driver) is an error naming the device, never a crash")
    void cudaDeviceOfAMissingOrdinal() {
        DeviceInfo far = VIA_OPENCL.withAliases(List.of(new DeviceAddress.Cuda(4096, Optional.empty())));
        MoeKernelException e = org.junit.jupiter.api.Assertions.assertThrows(MoeKernelException.class,
                () -> CudaHost.cudaDevice(far, "marlin"));
        if (CudaDriver.isAvailable()) {
            assertThat(e).isInstanceOf(BadInputException.class)
                    .hasMessageStartingWith("device cuda:4096 does not exist; the driver sees ");
        } else {
            assertThat(e).isInstanceOf(NativeFailureException.class)
                    .hasMessageContaining("marlin cannot run on cuda:4096: ");
        }
    }

    @Test
    @DisplayName("the CUDA id of a device is its own, or the CUDA alias of the same GPU")
    void cudaId() {
        assertThat(CudaHost.cudaId(VIA_OPENCL)).isEqualTo("opencl:1:0");
        assertThat(CudaHost.cudaId(VIA_OPENCL.withAliases(List.of(new DeviceAddress.Cuda(0, Optional.of("GPU-1"))))))
                .isEqualTo("cuda:0");
        assertThat(CudaHost.cudaId(new DeviceInfo("cuda:3", Vendor.NVIDIA, "sm_80", "A100", 108, 40L << 30, Set.of(),
                false))).isEqualTo("cuda:3");
    }
}
