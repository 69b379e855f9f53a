package io.moeoracle.ep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.error.UnsupportedSpecException;
import io.moeoracle.api.spec.ActivationFormat;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.driver.cuda.CudaDriver;
import io.moeoracle.driver.nccl.Nccl;
import io.moeoracle.driver.nccl.NcclUniqueId;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** What {@code build()} refuses before it touches a GPU or NCCL, and the verdict where there are none. */
class ExpertParallelMoeBuildTest {
    private static final MoeLayerSpec SPEC = MoeLayerSpec.builder().experts(8).topK(2).hiddenSize(64)
            .intermediateSize(64).build();

    private static DeviceInfo gpu(int ordinal) {
        return new DeviceInfo("cuda:" + ordinal, Vendor.NVIDIA, "sm_90", "a GPU on paper", 132, 80L << 30,
                Set.of("bf16"), false);
    }

    private static ExpertParallelMoe.Builder on(MoeLayerSpec spec, DeviceInfo... d) {
        return ExpertParallelMoe.builder(spec).devices(List.of(d));
    }

    @Test
    @DisplayName("the ranks must divide the experts, and the spec must describe the whole standard-format layer")
    void specRules() {
        assertThatThrownBy(() -> on(SPEC, gpu(0), gpu(1), gpu(2)).build()).isInstanceOf(BadInputException.class)
                .hasMessageContaining("3 ranks");
        assertThatThrownBy(() -> on(SPEC.toBuilder().activationFormat(ActivationFormat.BATCHED).build(), gpu(0), gpu(1))
                .build()).isInstanceOf(BadInputException.class).hasMessageContaining("STANDARD");
        assertThatThrownBy(() -> on(SPEC.toBuilder().expertParallel(4, 1).build(), gpu(0), gpu(1)).build())
                .isInstanceOf(BadInputException.class).hasMessageContaining("expertParallelSize 4");
        assertThatThrownBy(() -> on(SPEC.toBuilder().lora(true).build(), gpu(0), gpu(1)).build())
                .isInstanceOf(UnsupportedSpecException.class).hasMessageContaining("LoRA");
    }

    @Test
    @DisplayName("devices: real CUDA GPUs, each once; a placement for the same experts and ranks")
    void deviceRules() {
        assertThatThrownBy(() -> ExpertParallelMoe.builder(SPEC).build()).isInstanceOf(BadInputException.class)
                .hasMessageContaining("no devices");
        assertThatThrownBy(() -> on(SPEC, gpu(0), gpu(0)).build()).isInstanceOf(BadInputException.class)
                .hasMessageContaining("listed twice");
        DeviceInfo cpu = new DeviceInfo("cpu", Vendor.INTEL, "x86-64", "cpu", 2, 1L << 30, Set.of(), false);
        assertThatThrownBy(() -> on(SPEC, gpu(0), cpu).build()).isInstanceOf(BadInputException.class)
                .hasMessageContaining("not a real CUDA GPU");
        DeviceInfo sim = new DeviceInfo("sim:sm_90", Vendor.NVIDIA, "sm_90", "sim", 132, 80L << 30, Set.of(), true);
        assertThatThrownBy(() -> on(SPEC, gpu(0), sim).build()).isInstanceOf(BadInputException.class);
        assertThatThrownBy(() -> on(SPEC, gpu(0), gpu(1)).placement(ExpertPlacement.contiguous(8, 4)).build())
                .isInstanceOf(BadInputException.class).hasMessageContaining("placement is for 8 experts on 4 ranks");
        assertThatThrownBy(() -> on(SPEC, gpu(0), gpu(1)).maxTokensPerRank(0).build())
                .isInstanceOf(BadInputException.class).hasMessageContaining("maxTokensPerRank 0");
        NcclUniqueId id = NcclUniqueId.of(new byte[NcclUniqueId.BYTES]);
        assertThatThrownBy(() -> ExpertParallelMoe.builder(SPEC).rank(2, 2, gpu(0), id).build())
                .isInstanceOf(BadInputException.class).hasMessageContaining("rank in [0, 2)");
    }

    @Test
    @DisplayName("a valid layer on a machine without NCCL or CUDA: an unsupported verdict naming what is missing")
    void missingNcclOrCuda() {
        if (Nccl.isAvailable() && CudaDriver.isAvailable()) {
            return; // a GPU machine: EpGpuTest covers building for real
        }
        assertThatThrownBy(() -> on(SPEC, gpu(0), gpu(1)).build()).isInstanceOf(UnsupportedSpecException.class)
                .satisfies(e -> assertThat(((UnsupportedSpecException) e).reason())
                        .containsAnyOf("libnccl.so.2", "NVIDIA driver", "CUDA"))
                .satisfies(e -> assertThat(((UnsupportedSpecException) e).remedy()).isNotBlank());
    }

    @Test
    @DisplayName("the NVLS warning names the variable to set")
    void nvlsWarning() {
        List<String> w = ExpertParallelMoe.environmentWarnings();
        if ("0".equals(System.getenv("NCCL_NVLS_ENABLE"))) {
            assertThat(w).isEmpty();
        } else {
            assertThat(w).singleElement().asString().contains("NCCL_NVLS_ENABLE=0");
        }
    }
}
