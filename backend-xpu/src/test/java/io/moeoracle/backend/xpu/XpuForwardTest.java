package io.moeoracle.backend.xpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.reference.RandomMoe;
import io.moeoracle.reference.ReferenceMoe;
import io.moeoracle.reference.RelativeError;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The xpu kernels against core's float64 reference, executed on the host's OpenCL device (PoCL's
 * CPU device in CI, with moe.xpu.anyDevice=true from the POM), on both kernel paths.
 */
class XpuForwardTest {
    private static final Logger LOG = LoggerFactory.getLogger(XpuForwardTest.class);
    private static final double TOLERANCE = 1e-2;
    private static final long RUN_SEED = new Random().nextLong();
    private static final XpuKernelProvider PROVIDER = new XpuKernelProvider();
    private static DeviceInfo device;

    @BeforeAll
    static void logSeed() {
        LOG.info("XpuForwardTest run seed {}", RUN_SEED);
    }

    @BeforeEach // per test, so that a skip without OpenCL is counted for each (surefire does not count a skipped class)
    void pickDevice() {
        device = XpuTestSupport.device(false);
    }

    static Stream<Arguments> randomCases() {
        Random rnd = new Random(RUN_SEED);
        List<Arguments> out = new ArrayList<>();
        for (int n = 0; n < 12; n++) {
            long seed = rnd.nextLong();
            XpuTestSupport.Case c = XpuTestSupport.randomCase(new Random(seed), seed);
            out.add(Arguments.of(c, n % 2 == 0 ? "portable" : "subgroup"));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "[{index}] {1}: {0}")
    @MethodSource("randomCases")
    void randomSpecMatchesReference(XpuTestSupport.Case c, String path) {
        try (Arena arena = Arena.ofConfined();
             XpuMoeKernel kernel = PROVIDER.create(c.spec(), device, XpuPrograms.source(), path)) {
            assertThat(kernel.path()).isEqualTo(path.equals("portable") ? KernelPath.PORTABLE
                    : XpuPrograms.choosePath(io.moeoracle.driver.opencl.OpenCl.device(device.id()).orElseThrow(), "subgroup"));
            MoeWeights w = RandomMoe.weights(c.spec(), c.seed(), arena);
            kernel.prepare(w);
            double err = XpuTestSupport.runAgainstReference(kernel, c, w, arena);
            LOG.info("{} [{}]: relative L2 {}", c, kernel.path(), err);
            assertThat(err).as("relative L2 of %s", c).isLessThanOrEqualTo(TOLERANCE);
        }
    }

    @Test
    void bothPathsAgreeAndRepeatBitwise() {
        long seed = new Random(RUN_SEED + 7).nextLong();
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(8).topK(2).hiddenSize(96).intermediateSize(64)
                .quant(QuantScheme.MXFP4_BF16).maxTokensPerCall(32).build();
        try (Arena arena = Arena.ofConfined();
             XpuMoeKernel portable = PROVIDER.create(spec, device, XpuPrograms.source(), "portable");
             XpuMoeKernel subgroup = PROVIDER.create(spec, device, XpuPrograms.source(), "subgroup")) {
            MoeWeights w = RandomMoe.weights(spec, seed, arena);
            portable.prepare(w);
            subgroup.prepare(w);
            HostTensor hidden = RandomMoe.hidden(13, 96, DType.F32, seed + 1, arena);
            Routing r = Routing.logits(RandomMoe.routerLogits(13, 8, seed + 2, arena));
            HostTensor a = HostTensor.allocate(arena, DType.F32, 13, 96);
            HostTensor b = HostTensor.allocate(arena, DType.F32, 13, 96);
            HostTensor a2 = HostTensor.allocate(arena, DType.F32, 13, 96);
            portable.forward(hidden, r, a);
            subgroup.forward(hidden, r, b);
            portable.forward(hidden, r, a2);
            assertThat(a2.data().mismatch(a.data())).as("repeat is bitwise identical").isEqualTo(-1);
            assertThat(RelativeError.l2(b, a)).isLessThan(1e-5);
        }
    }

    @Test
    void gptOss20bShapedLayerAtEightTokens() {
        long seed = new Random(RUN_SEED + 11).nextLong();
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(32).topK(4).hiddenSize(2880).intermediateSize(2880)
                .quant(QuantScheme.MXFP4_BF16).maxTokensPerCall(8).build();
        XpuTestSupport.Case c = new XpuTestSupport.Case(spec, 8, DType.BF16, DType.BF16, true, seed);
        try (Arena arena = Arena.ofShared(); XpuMoeKernel kernel = PROVIDER.create(spec, device, XpuPrograms.source(), "auto")) {
            long t0 = System.nanoTime();
            MoeWeights w = RandomMoe.weights(spec, seed, arena);
            long t1 = System.nanoTime();
            kernel.prepare(w);
            long t2 = System.nanoTime();
            double err = XpuTestSupport.runAgainstReference(kernel, c, w, arena);
            long t3 = System.nanoTime();
            LOG.info("gpt-oss-20b layer T=8 on {} [{}]: relative L2 {} (weights {} ms, prepare {} ms, forward+reference {} ms)",
                    device.name(), kernel.path(), err, (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000, (t3 - t2) / 1_000_000);
            assertThat(err).isLessThanOrEqualTo(TOLERANCE);
        }
    }

    @Test
    void tokensRoutedOnlyToRemoteExpertsGetZeroRows() {
        long seed = new Random(RUN_SEED + 13).nextLong();
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(8).topK(2).hiddenSize(64).intermediateSize(32)
                .quant(QuantScheme.BF16).expertParallel(2, 1).maxTokensPerCall(16).build();
        try (Arena arena = Arena.ofConfined(); XpuMoeKernel kernel = PROVIDER.create(spec, device, XpuPrograms.source(), "auto")) {
            MoeWeights w = RandomMoe.weights(spec, seed, arena);
            kernel.prepare(w);
            HostTensor ids = HostTensor.allocate(arena, DType.I32, 3, 2);
            HostTensor wts = HostTensor.allocate(arena, DType.F32, 3, 2);
            int[][] choice = {{0, 1}, {5, 2}, {7, 6}}; // token 0 only remote, token 1 half, token 2 only local
            for (int t = 0; t < 3; t++) {
                for (int j = 0; j < 2; j++) {
                    ids.data().setAtIndex(java.lang.foreign.ValueLayout.JAVA_INT, t * 2 + j, choice[t][j]);
                    wts.data().setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, t * 2 + j, 0.25f + 0.5f * j);
                }
            }
            HostTensor hidden = RandomMoe.hidden(3, 64, DType.F32, seed + 1, arena);
            HostTensor out = HostTensor.allocate(arena, DType.F32, 3, 64);
            XpuTestSupport.poison(out);
            Routing r = Routing.topK(ids, wts);
            kernel.forward(hidden, r, out);
            HostTensor expected = HostTensor.allocate(arena, DType.F32, 3, 64);
            ReferenceMoe.forward(spec, w, hidden, r, expected);
            assertThat(XpuTestSupport.countNaNs(out)).isZero();
            for (int n = 0; n < 64; n++) {
                assertThat(out.data().getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, n)).isEqualTo(0f);
            }
            assertThat(RelativeError.l2(out, expected)).isLessThanOrEqualTo(TOLERANCE);
        }
    }
}
