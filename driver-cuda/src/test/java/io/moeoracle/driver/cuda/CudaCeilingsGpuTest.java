package io.moeoracle.driver.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.RooflineProbe;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

@Tag("gpu")
class CudaCeilingsGpuTest {
    private static final Logger LOG = LoggerFactory.getLogger(CudaCeilingsGpuTest.class);

    @Test
    void ceilings_are_measured_with_their_methods() {
        try (CudaContext ctx = CudaDriver.load().device(0).retainPrimaryContext()) {
            ctx.setCurrent();
            RooflineProbe.Ceilings c = CudaCeilings.measure(ctx);
            LOG.info("ceilings: {}", c);

            // far below any data-center GPU's real numbers, far above a broken measurement
            assertThat(c.bytesPerSecond()).isGreaterThan(2e11).isLessThan(2e13);
            assertThat(c.bandwidthMethod()).contains("cuMemcpyDtoDAsync").contains(ctx.device().name());
            if (CublasBf16Gemm.unavailability().isEmpty()) {
                assertThat(c.flopsPerSecond()).isGreaterThan(1e13).isLessThan(1e16);
                assertThat(c.flopsMethod()).contains("cublasGemmEx").contains("cuBLAS ");
            } else {
                assertThat(c.flopsPerSecond()).isNaN();
                assertThat(c.flopsMethod()).startsWith("not measured: ");
            }
            if (ctx.device().computeCapability() >= 89 && CublasLtFp8Gemm.unavailability().isEmpty()) {
                // FP8 tensor cores run at twice the BF16 rate on sm_89/sm_90; a working plan beats BF16 clearly
                assertThat(c.hasFp8Rate()).isTrue();
                assertThat(c.fp8FlopsPerSecond()).isGreaterThan(1.2 * c.flopsPerSecond()).isLessThan(1e16);
                assertThat(c.fp8FlopsMethod()).contains("cublasLtMatmul").contains("E4M3").contains("cuBLASLt ");
                assertThat(c.computeRate(true)).isEqualTo(c.fp8FlopsPerSecond());
                assertThat(c.computeRate(false)).isEqualTo(c.flopsPerSecond());
            } else {
                assertThat(c.hasFp8Rate()).isFalse();
                assertThat(c.fp8FlopsMethod()).startsWith("not measured: ");
            }
        }
    }

    @Test
    void fp8_plan_refuses_sizes_cublaslt_cannot_take_before_any_native_call() {
        try (CudaContext ctx = CudaDriver.load().device(0).retainPrimaryContext(); CudaStream s = ctx.createStream()) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> new CublasLtFp8Gemm(ctx, s, 8192, 8192, 100, true))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("k=100");
        }
    }
}
