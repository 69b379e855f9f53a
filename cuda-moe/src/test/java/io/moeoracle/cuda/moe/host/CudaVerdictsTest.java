package io.moeoracle.cuda.moe.host;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceAddress;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class CudaVerdictsTest {
    private static SupportVerdict.Unsupported refused(Optional<SupportVerdict> v) {
        assertThat(v).isPresent();
        return (SupportVerdict.Unsupported) v.orElseThrow();
    }

    @Test
    @DisplayName("another vendor's device is refused with the vendor in words")
    void otherVendor() {
        DeviceInfo mi300 = new DeviceInfo("sim:gfx942", Vendor.AMD, "gfx942", "AMD Instinct MI300X", 304, 192L << 30,
                Set.of(), true);
        SupportVerdict.Unsupported u = refused(CudaVerdicts.unreachable("marlin", mi300));
        assertThat(u.reason()).isEqualTo("marlin runs on NVIDIA GPUs only; sim:gfx942 (gfx942, AMD Instinct MI300X,"
                + " simulated) is an AMD GPU");
        assertThat(u.remedy()).contains("cpu");
    }

    @Test
    @DisplayName("a real NVIDIA GPU seen only through OpenCL is refused, naming the driver; its CUDA alias passes")
    void reachedThroughAnotherDriver() {
        DeviceInfo viaOpenCl = CudaHostTest.VIA_OPENCL;
        SupportVerdict.Unsupported u = refused(CudaVerdicts.unreachable("triton", viaOpenCl));
        assertThat(u.reason()).startsWith("triton launches through the CUDA driver; ").contains("opencl:1:0",
                "OpenCL (platform 1, device 0)", "no CUDA device reported the same UUID");
        assertThat(u.remedy()).contains("cuda:N");

        DeviceInfo sameGpu = viaOpenCl.withAliases(List.of(new DeviceAddress.Cuda(0, Optional.of("GPU-1234"))));
        assertThat(CudaVerdicts.unreachable("triton", sameGpu)).isEmpty();
        assertThat(CudaVerdicts.aliasNote(sameGpu)).contains("; launched through cuda:0 (the same GPU)");
    }

    @Test
    @DisplayName("simulated NVIDIA devices and a GPU's own CUDA id pass without a note")
    void simulatedAndOwnId() {
        assertThat(CudaVerdicts.unreachable("marlin", CudaHostTest.SIM_SM90)).isEmpty();
        assertThat(CudaVerdicts.aliasNote(CudaHostTest.SIM_SM90)).isEmpty();
        DeviceInfo own = new DeviceInfo("cuda:0", Vendor.NVIDIA, "sm_90", "H100", 132, 80L << 30, Set.of(), false);
        assertThat(CudaVerdicts.unreachable("marlin", own)).isEmpty();
        assertThat(CudaVerdicts.aliasNote(own)).isEmpty();
    }

    @Test
    @DisplayName("weights other than MXFP4 are refused with the scheme and a remedy")
    void weights() {
        assertThat(CudaVerdicts.notMxfp4("marlin", CudaHostTest.SPEC)).isEmpty();
        MoeLayerSpec bf16 = CudaHostTest.SPEC.toBuilder().quant(QuantScheme.BF16).build();
        SupportVerdict.Unsupported u = refused(CudaVerdicts.notMxfp4("flashinfer-bf16", bf16));
        assertThat(u.reason()).startsWith("flashinfer-bf16 implements MXFP4 weights only; the spec has ");
        assertThat(u.remedy()).contains("emulation");
    }
}
