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
        }
    }
}
