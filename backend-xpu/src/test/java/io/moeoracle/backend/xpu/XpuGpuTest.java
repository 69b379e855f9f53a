package io.moeoracle.backend.xpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.RooflineProbe;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.reference.RandomMoe;
import java.lang.foreign.Arena;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The xpu kernels on a GPU's own OpenCL driver (the NVIDIA one on the GPU machine: export
 * OCL_ICD_VENDORS=/folder/with/nvidia.icd before starting the JVM). Fails when no OpenCL GPU is
 * listed, so it cannot pass on PoCL by accident.
 */
@Tag("gpu")
class XpuGpuTest {
    private static final Logger LOG = LoggerFactory.getLogger(XpuGpuTest.class);
    private static final double TOLERANCE = 1e-2;
    private static final XpuKernelProvider PROVIDER = new XpuKernelProvider();
    private static DeviceInfo device;
    private static long runSeed;

    @BeforeAll
    static void pickGpu() {
        System.setProperty(XpuSettings.ANY_DEVICE.name(), "true");
        // -Dxpu.gpuTest.allowCpu=true dry-runs this class on PoCL (the ceiling thresholds then fail)
        device = XpuTestSupport.device(!Boolean.getBoolean("xpu.gpuTest.allowCpu"));
        runSeed = new Random().nextLong();
        LOG.info("XpuGpuTest on {} (features {}), run seed {}", device.describe(), device.features(), runSeed);
    }

    @Test
    void randomSpecsMatchReferenceOnBothPaths() {
        Random rnd = new Random(runSeed);
        for (int n = 0; n < 12; n++) {
            long seed = rnd.nextLong();
            XpuTestSupport.Case c = XpuTestSupport.randomCase(new Random(seed), seed);
            String path = n % 2 == 0 ? "auto" : "subgroup"; // subgroup = emulated where the device has none
            try (Arena arena = Arena.ofConfined();
                 XpuMoeKernel kernel = PROVIDER.create(c.spec(), device, XpuPrograms.source(), path)) {
                MoeWeights w = RandomMoe.weights(c.spec(), c.seed(), arena);
                kernel.prepare(w);
                double err = XpuTestSupport.runAgainstReference(kernel, c, w, arena);
                LOG.info("gpu {} [{}]: relative L2 {}", c, kernel.path(), err);
                assertThat(err).as("relative L2 of %s", c).isLessThanOrEqualTo(TOLERANCE);
            }
        }
    }

    @Test
    void gptOss20bShapedLayerMatchesReferenceAndIsTimed() {
        long seed = runSeed + 1;
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(32).topK(4).hiddenSize(2880).intermediateSize(2880)
                .quant(QuantScheme.MXFP4_BF16).maxTokensPerCall(256).build();
        try (Arena arena = Arena.ofShared();
             XpuMoeKernel kernel = PROVIDER.create(spec, device, XpuPrograms.source(), XpuOptions.fromSettings().path())) {
            MoeWeights w = RandomMoe.weights(spec, seed, arena);
            kernel.prepare(w);
            for (int tokens : new int[] {1, 8, 256}) {
                XpuTestSupport.Case c = new XpuTestSupport.Case(spec, tokens, DType.BF16, DType.BF16, true, seed + tokens);
                double err = XpuTestSupport.runAgainstReference(kernel, c, w, arena);
                HostTensor hidden = RandomMoe.hidden(tokens, 2880, DType.BF16, seed, arena);
                Routing r = Routing.logits(RandomMoe.routerLogits(tokens, 32, seed, arena));
                HostTensor out = HostTensor.allocate(arena, DType.BF16, tokens, 2880);
                kernel.profile(true);
                kernel.forward(hidden, r, out);
                kernel.forward(hidden, r, out);
                Map<String, Long> stages = kernel.lastStageNanos();
                kernel.profile(false);
                LOG.info("gpu gpt-oss-20b layer T={} on {} [{}]: relative L2 {}; device time per stage (us) {}, total {} us",
                        tokens, device.name(), kernel.path(), err,
                        stages.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue() / 1000).toList(),
                        stages.values().stream().mapToLong(Long::longValue).sum() / 1000);
                assertThat(err).isLessThanOrEqualTo(TOLERANCE);
            }
        }
    }

    @Test
    void ceilingsAreMeasured() {
        RooflineProbe.Ceilings c = PROVIDER.measureCeilings(device);
        LOG.info("gpu OpenCL ceilings on {}: {} GB/s ({}), {} GFLOP/s ({})", device.name(), c.bytesPerSecond() / 1e9,
                c.bandwidthMethod(), c.flopsPerSecond() / 1e9, c.flopsMethod());
        assertThat(c.bytesPerSecond()).isGreaterThan(1e11);
        assertThat(c.flopsPerSecond()).isGreaterThan(1e12);
    }
}
