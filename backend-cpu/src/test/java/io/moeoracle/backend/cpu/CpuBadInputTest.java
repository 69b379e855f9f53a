package io.moeoracle.backend.cpu;

import static io.moeoracle.backend.cpu.CpuTestSupport.HOST;
import static io.moeoracle.backend.cpu.CpuTestSupport.PROVIDER;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.error.KernelStateException;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.backend.cpu.ffi.CpuNativeException;
import io.moeoracle.backend.cpu.ffi.MoeCpuNative;
import io.moeoracle.reference.RandomMoe;
import java.lang.foreign.Arena;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Bad input is rejected with an exception that names the problem, before any native code runs. */
class CpuBadInputTest {
    private static final long SEED = System.nanoTime();
    private final MoeLayerSpec spec = MoeLayerSpec.builder().experts(4).topK(2).hiddenSize(64).intermediateSize(32)
            .quant(QuantScheme.MXFP4_BF16).build();
    private Arena arena;
    private MoeKernel kernel;
    private MoeWeights weights;

    @BeforeEach
    void setUp() {
        arena = Arena.ofConfined();
        kernel = PROVIDER.create(spec, HOST);
        weights = RandomMoe.weights(spec, SEED, arena);
    }

    @AfterEach
    void tearDown() {
        kernel.close();
        arena.close();
    }

    private HostTensor hidden(int t) {
        return RandomMoe.hidden(t, 64, DType.F32, SEED, arena);
    }

    private Routing logits(int t, int e) {
        return Routing.logits(RandomMoe.routerLogits(t, e, SEED, arena));
    }

    @Test
    void forwardBeforePrepare() {
        assertThatThrownBy(() -> kernel.forward(hidden(3), logits(3, 4), HostTensor.allocate(arena, DType.F32, 3, 64)))
                .isInstanceOf(KernelStateException.class).hasMessageContaining("not prepared");
    }

    @Test
    void useAfterClose() {
        kernel.prepare(weights);
        kernel.close();
        assertThatThrownBy(() -> kernel.forward(hidden(3), logits(3, 4), HostTensor.allocate(arena, DType.F32, 3, 64)))
                .isInstanceOf(KernelStateException.class).hasMessageContaining("closed");
        assertThatThrownBy(() -> kernel.prepare(weights)).isInstanceOf(KernelStateException.class)
                .hasMessageContaining("closed");
    }

    @Test
    void hiddenOfTheWrongWidth() {
        kernel.prepare(weights);
        HostTensor wrong = RandomMoe.hidden(3, 96, DType.F32, SEED, arena);
        assertThatThrownBy(() -> kernel.forward(wrong, logits(3, 4), HostTensor.allocate(arena, DType.F32, 3, 96)))
                .isInstanceOf(BadInputException.class).hasMessageContaining("hidden is [3, 96]");
    }

    @Test
    void outShapeMismatch() {
        kernel.prepare(weights);
        assertThatThrownBy(() -> kernel.forward(hidden(3), logits(3, 4), HostTensor.allocate(arena, DType.F32, 2, 64)))
                .isInstanceOf(BadInputException.class).hasMessageContaining("out is [2, 64]");
    }

    @Test
    void logitsForTheWrongExpertCount() {
        kernel.prepare(weights);
        assertThatThrownBy(() -> kernel.forward(hidden(3), logits(3, 5), HostTensor.allocate(arena, DType.F32, 3, 64)))
                .isInstanceOf(BadInputException.class).hasMessageContaining("router logits");
    }

    @Test
    void hiddenOfTheWrongDtype() {
        kernel.prepare(weights);
        HostTensor ints = HostTensor.allocate(arena, DType.I32, 3, 64);
        assertThatThrownBy(() -> kernel.forward(ints, logits(3, 4), HostTensor.allocate(arena, DType.F32, 3, 64)))
                .isInstanceOf(BadInputException.class).hasMessageContaining("I32");
    }

    @Test
    void topKIdsOutOfRange() {
        kernel.prepare(weights);
        Routing.TopK r = CpuTestSupport.topK(arena, new int[][] {{0, 1}, {2, 4}, {1, 3}});
        assertThatThrownBy(() -> kernel.forward(hidden(3), r, HostTensor.allocate(arena, DType.F32, 3, 64)))
                .isInstanceOf(BadInputException.class).hasMessageContaining("top-k id 4 at token 1");
        Routing.TopK neg = CpuTestSupport.topK(arena, new int[][] {{0, -1}});
        assertThatThrownBy(() -> kernel.forward(hidden(1), neg, HostTensor.allocate(arena, DType.F32, 1, 64)))
                .isInstanceOf(BadInputException.class).hasMessageContaining("top-k id -1");
    }

    @Test
    void weightsOfTheWrongShape() {
        MoeLayerSpec other = spec.toBuilder().intermediateSize(64).build();
        MoeWeights wrong = RandomMoe.weights(other, SEED, arena);
        assertThatThrownBy(() -> kernel.prepare(wrong)).isInstanceOf(BadInputException.class)
                .hasMessageContaining("w13");
    }

    @Test
    void weightsOfTheWrongDtype() {
        HostTensor f32 = HostTensor.allocate(arena, DType.F32, 4, 64, 16);
        MoeWeights wrong = new MoeWeights(f32, weights.w13Scales(), weights.w13Bias(), weights.w2(),
                weights.w2Scales(), weights.w2Bias());
        assertThatThrownBy(() -> kernel.prepare(wrong)).isInstanceOf(BadInputException.class)
                .hasMessageContaining("w13 is F32");
    }

    @Test
    void missingBias() {
        MoeWeights noBias = new MoeWeights(weights.w13(), weights.w13Scales(), Optional.empty(), weights.w2(),
                weights.w2Scales(), Optional.empty());
        assertThatThrownBy(() -> kernel.prepare(noBias)).isInstanceOf(BadInputException.class)
                .hasMessageContaining("w13Bias is missing");
    }

    @Test
    void heapSegmentsWork() {
        kernel.prepare(weights);
        float[] x = new float[2 * 64];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.sin(i);
        }
        float[] out = new float[2 * 64];
        java.util.Arrays.fill(out, Float.NaN);
        HostTensor o = HostTensor.of(java.lang.foreign.MemorySegment.ofArray(out), DType.F32, 2, 64);
        kernel.forward(HostTensor.of(java.lang.foreign.MemorySegment.ofArray(x), DType.F32, 2, 64), logits(2, 4), o);
        for (float v : out) {
            org.assertj.core.api.Assertions.assertThat(v).isFinite();
        }
    }

    @Test
    void nativeErrorsNameTheCall() {
        MoeCpuNative n = MoeCpuNative.get();
        assertThatThrownBy(() -> n.layerCreate(4, 2, 48, 32, 0, 0, 1.7f, 7f, true, 0, 1))
                .isInstanceOf(CpuNativeException.class).hasMessageContaining("moe_cpu_layer_create")
                .hasMessageContaining("H=48").hasMessageContaining("multiples of 32");
        assertThatThrownBy(() -> n.layerCreate(4, 2, 64, 32, 0, 0, 1.7f, 7f, true, 99, 1))
                .isInstanceOf(CpuNativeException.class).hasMessageContaining("not available on this CPU");
        var layer = n.layerCreate(4, 2, 64, 32, 0, 0, 1.7f, 7f, true, 0, 1);
        try {
            var seg = arena.allocate(64 * 4);
            assertThatThrownBy(() -> n.layerForward(layer, 1, seg, 0, 0, seg, 0, java.lang.foreign.MemorySegment.NULL,
                    java.lang.foreign.MemorySegment.NULL, seg, 0, java.lang.foreign.MemorySegment.NULL))
                    .isInstanceOf(CpuNativeException.class).hasMessageContaining("moe_cpu_layer_forward")
                    .hasMessageContaining("not prepared");
        } finally {
            n.layerDestroy(layer);
        }
    }
}
