package io.moeoracle.backend.aiter;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.spec.Activation;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.driver.cuda.CudaContext;
import io.moeoracle.driver.cuda.CudaModule;
import io.moeoracle.driver.cuda.CudaStream;
import io.moeoracle.driver.cuda.DeviceBuffer;
import io.moeoracle.driver.cuda.KernelArgs;
import io.moeoracle.driver.cuda.LaunchConfig;
import io.moeoracle.driver.cuda.testing.CudaTestModule;
import io.moeoracle.reference.ForwardCase;
import io.moeoracle.reference.RandomMoe;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The aiter kernel source (aiter_moe.hip), compiled as CUDA through moe_port.h (warp 32, mma.sync
 * in place of wave64 MFMA), run on an NVIDIA GPU through driver-cuda with the launch list of
 * {@link AiterPlan} — the same host code that drives the HIP build — and compared with the float64
 * reference: relative L2 at most 1e-2. This checks routing, alignment, MXFP4 decoding, the FP8
 * quantization, both GEMMs' indexing, bias, activations and the top-k reduction on real hardware;
 * the MFMA operand layouts and wave64 scheduling only an AMD GPU can check.
 */
@Tag("gpu")
class AiterCudaGpuTest {
    private static final Logger LOG = LoggerFactory.getLogger(AiterCudaGpuTest.class);
    private static final double TOLERANCE = 1e-2;
    private static final String IMAGE = "aiter_moe_cuda.fatbin";
    private static CudaTestModule gpu;
    private static CudaContext context;
    private static CudaModule module;

    private SplittableRandom rnd;

    @BeforeAll
    static void load() throws IOException {
        byte[] image;
        try (InputStream in = AiterCudaGpuTest.class.getResourceAsStream(IMAGE)) {
            assertThat(in).as(IMAGE + " (the CUDA build of aiter_moe.hip) is in the test jar: build "
                    + "backend-rocm-aiter where nvcc is installed").isNotNull();
            image = in.readAllBytes();
        }
        gpu = CudaTestModule.load(image);
        context = gpu.context();
        module = gpu.module();
        LOG.info("device {}", context.device().toDeviceInfo().describe());
    }

    @AfterAll
    static void unload() {
        if (gpu != null) {
            gpu.close();
        }
    }

    @BeforeEach
    void seed() {
        long seed = System.nanoTime();
        rnd = new SplittableRandom(seed);
        LOG.info("seed {}", seed);
        context.setCurrent();
    }

    private static MoeLayerSpec small(Activation act, boolean bias, ActivationType actType) {
        return MoeLayerSpec.builder().experts(8).topK(2).hiddenSize(128).intermediateSize(96)
                .quant(new QuantScheme(QuantScheme.MXFP4_BF16.weights(), actType)).activation(act).hasBias(bias)
                .maxTokensPerCall(512).build();
    }

    @ParameterizedTest(name = "fp8={0}")
    @ValueSource(booleans = {false, true})
    void smallLayersMatchTheReference(boolean fp8) {
        ActivationType at = fp8 ? ActivationType.FP8_PER_TOKEN : ActivationType.BF16;
        List<MoeLayerSpec> specs = List.of(
                small(new Activation.SwigluOai(1.702, 7.0), true, at),
                small(new Activation.Silu(), false, at),
                small(new Activation.Gelu(), true, at));
        int[] tokens = {1, 5, 37, 300};
        for (MoeLayerSpec spec : specs) {
            for (int i = 0; i < tokens.length; i++) {
                boolean logits = i % 2 == 0;
                DType hiddenType = i == 1 ? DType.F32 : DType.BF16;
                DType outType = i == 2 ? DType.F32 : DType.BF16;
                double err = runCase(spec, fp8, tokens[i], logits, i == 3, hiddenType, outType, tokens[i]);
                LOG.info("{} fp8={} T={} logits={}: relL2 {}", spec.activation(), fp8, tokens[i], logits, err);
                assertThat(err).as("%s fp8=%s T=%d", spec.activation(), fp8, tokens[i]).isLessThanOrEqualTo(TOLERANCE);
            }
        }
    }

    @Test
    void expertParallelRankComputesOnlyItsExperts() {
        MoeLayerSpec spec = small(new Activation.SwigluOai(1.702, 7.0), true, ActivationType.BF16).toBuilder()
                .expertParallel(2, 1).build();
        double err = runCase(spec, false, 64, true, false, DType.BF16, DType.F32, 64);
        LOG.info("EP rank 1 of 2, T=64: relL2 {}", err);
        assertThat(err).isLessThanOrEqualTo(TOLERANCE);
    }

    @ParameterizedTest(name = "gpt-oss-{0} layer")
    @ValueSource(ints = {20, 120})
    void gptOssLayersMatchTheReference(int model) {
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(model == 20 ? 32 : 128).topK(4).hiddenSize(2880)
                .intermediateSize(2880).quant(QuantScheme.MXFP4_BF16).hasBias(true)
                .activation(new Activation.SwigluOai(1.702, 7.0)).maxTokensPerCall(1024).build();
        try (Arena arena = Arena.ofShared()) {
            MoeWeights w = RandomMoe.weights(spec, rnd.nextLong(), arena); // once: 1.6 GB for gpt-oss-120b
            for (int t : new int[] {1, 64, 1024}) {
                int check = Math.min(t, 24);
                double err = runCase(spec, false, w, t, t != 64, t == 1024, DType.BF16, DType.BF16, check);
                LOG.info("gpt-oss-{} bf16 T={} rows checked {}: relL2 {}", model, t, check, err);
                assertThat(err).as("gpt-oss-%d T=%d", model, t).isLessThanOrEqualTo(TOLERANCE);
            }
            MoeLayerSpec fp8 = spec.toBuilder()
                    .quant(new QuantScheme(spec.quant().weights(), ActivationType.FP8_PER_TOKEN)).build();
            double err = runCase(fp8, true, w, 64, true, false, DType.BF16, DType.BF16, 24);
            LOG.info("gpt-oss-{} fp8 T=64 rows checked 24: relL2 {}", model, err);
            assertThat(err).as("gpt-oss-%d fp8 T=64", model).isLessThanOrEqualTo(TOLERANCE);
        }
    }

    /** Runs one call on the GPU and the reference on {@code checkRows} random rows; returns the relative L2. */
    private double runCase(MoeLayerSpec spec, boolean fp8, int t, boolean byLogits, boolean hot, DType hiddenType,
                           DType outType, int checkRows) {
        try (Arena arena = Arena.ofShared()) {
            return runCase(spec, fp8, RandomMoe.weights(spec, rnd.nextLong(), arena), t, byLogits, hot, hiddenType,
                    outType, checkRows);
        }
    }

    private double runCase(MoeLayerSpec spec, boolean fp8, MoeWeights w, int t, boolean byLogits, boolean hot,
                           DType hiddenType, DType outType, int checkRows) {
        // plain random logits, no starved experts (as this test always drew them); runOnGpu takes host tensors
        ForwardCase c = new ForwardCase(t, byLogits, false, hot, false, hiddenType, outType, checkRows);
        return c.errors(spec, w, rnd, (hidden, routing, out) -> runOnGpu(spec, fp8, t, w, hidden, routing, out))[0];
    }

    private void runOnGpu(MoeLayerSpec spec, boolean fp8, int t, MoeWeights w, HostTensor hidden, Routing routing,
                          HostTensor out) {
        AiterPlan plan = new AiterPlan(spec, fp8, 32);
        AiterPlan.Scratch s = plan.scratch(t);
        List<DeviceBuffer> buffers = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            long logits = 0;
            boolean logitsBf16 = false;
            long ids;
            long weights;
            switch (routing) {
                case Routing.Logits l -> {
                    logits = upload(buffers, ((HostTensor) l.logits()).data());
                    logitsBf16 = l.logits().dtype() == DType.BF16;
                    ids = alloc(buffers, s.ids());
                    weights = alloc(buffers, s.weights());
                }
                case Routing.TopK tk -> {
                    ids = upload(buffers, ((HostTensor) tk.ids()).data());
                    weights = upload(buffers, ((HostTensor) tk.weights()).data());
                }
            }
            long dOut = alloc(buffers, out.data().byteSize());
            AiterPlan.Buffers b = new AiterPlan.Buffers(upload(buffers, hidden.data()), hidden.dtype() == DType.F32,
                    logits, logitsBf16, dOut, out.dtype() == DType.F32,
                    upload(buffers, w.w13().data()), upload(buffers, w.w13Scales().orElseThrow().data()),
                    w.w13Bias().map(x -> upload(buffers, x.data())).orElse(0L),
                    w.w13Bias().map(x -> x.dtype() == DType.F32).orElse(false),
                    upload(buffers, w.w2().data()), upload(buffers, w.w2Scales().orElseThrow().data()),
                    w.w2Bias().map(x -> upload(buffers, x.data())).orElse(0L),
                    w.w2Bias().map(x -> x.dtype() == DType.F32).orElse(false),
                    ids, weights, alloc(buffers, s.sorted()), alloc(buffers, s.blockExpert()),
                    alloc(buffers, s.numBlocks()), alloc(buffers, s.inter()), alloc(buffers, s.y()),
                    alloc(buffers, s.xq()), alloc(buffers, s.xs()), alloc(buffers, s.interq()), alloc(buffers, s.inters()));
            CudaStream stream = CudaStream.legacyDefault(context);
            for (AiterPlan.Launch launch : plan.launches(t, b)) {
                KernelArgs.Builder args = KernelArgs.builder();
                for (AiterPlan.Arg a : launch.args()) {
                    switch (a) {
                        case AiterPlan.Arg.Ptr p -> args.pointer(p.address());
                        case AiterPlan.Arg.I32 i -> args.i32(i.value());
                        case AiterPlan.Arg.F32 f -> args.f32(f.value());
                    }
                }
                module.function(launch.kernel()).launch(
                        LaunchConfig.of(launch.gridX(), launch.gridY(), 1, launch.block(), 1, 1), stream, args.build(arena));
            }
            context.synchronize();
            buffers.stream().filter(x -> x.address() == dOut).findFirst().orElseThrow().copyToHost(out.data());
        } finally {
            buffers.forEach(DeviceBuffer::close);
        }
    }

    private static long upload(List<DeviceBuffer> buffers, MemorySegment host) {
        DeviceBuffer d = context.allocate(Math.max(1, host.byteSize()));
        buffers.add(d);
        d.copyFromHost(host);
        return d.address();
    }

    private static long alloc(List<DeviceBuffer> buffers, long bytes) {
        if (bytes == 0) {
            return 0;
        }
        DeviceBuffer d = context.allocate(bytes);
        buffers.add(d);
        d.fill((byte) 0xFF); // garbage in: the kernels must not read what they did not write
        return d.address();
    }
}
