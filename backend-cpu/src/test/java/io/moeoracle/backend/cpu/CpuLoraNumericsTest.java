package io.moeoracle.backend.cpu;

import static io.moeoracle.backend.cpu.CpuTestSupport.HOST;
import static io.moeoracle.backend.cpu.CpuTestSupport.PROVIDER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.spec.Activation;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.LoraAdapter;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.reference.LoraInput;
import io.moeoracle.reference.RandomMoe;
import io.moeoracle.reference.ReferenceMoe;
import io.moeoracle.reference.RelativeError;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * cpu with LoRA adapters against the float64 reference: random specs, 1 and 4 resident adapters,
 * ranks 8 and 64, mixed per-token indices including -1; relative L2 at most 1e-2, outputs filled
 * with NaN before the call. Also checks that the adapter term is really there (the output moves
 * away from the base layer's) and that load/replace/unload act on the next forward.
 */
class CpuLoraNumericsTest {
    private static final Logger LOG = LoggerFactory.getLogger(CpuLoraNumericsTest.class);
    private static final double TOLERANCE = 1e-2;
    private static final long SEED = Long.getLong("moe.test.seed", System.nanoTime());

    static {
        LOG.info("CpuLoraNumericsTest seed {} (rerun with -Dmoe.test.seed={})", SEED, SEED);
    }

    @TestFactory
    Stream<DynamicTest> randomSpecsWithAdaptersMatchTheReference() {
        SplittableRandom rnd = new SplittableRandom(SEED);
        Activation[] acts = {Activation.SWIGLU_OAI, Activation.SILU, Activation.GELU};
        return Stream.of(new int[] {1, 8}, new int[] {4, 8}, new int[] {1, 64}, new int[] {4, 64},
                new int[] {4, 8}, new int[] {4, 64}).map(c -> {
                    int slots = c[0];
                    int rank = c[1];
                    int e = 1 + rnd.nextInt(16);
                    int k = 1 + rnd.nextInt(Math.min(4, e));
                    int h = 32 * (1 + rnd.nextInt(12));
                    int i = 32 * (1 + rnd.nextInt(12));
                    int t = 1 + rnd.nextInt(40);
                    MoeLayerSpec spec = MoeLayerSpec.builder().experts(e).topK(k).hiddenSize(h).intermediateSize(i)
                            .quant(rnd.nextBoolean() ? QuantScheme.MXFP4_BF16 : QuantScheme.BF16)
                            .activation(acts[rnd.nextInt(3)]).hasBias(rnd.nextBoolean()).lora(rank, slots).build();
                    long seed = rnd.nextLong();
                    return DynamicTest.dynamicTest(spec.describe() + " T=" + t + " rank " + rank,
                            () -> check(spec, t, rank, seed));
                });
    }

    private static void check(MoeLayerSpec spec, int t, int rank, long seed) {
        try (Arena arena = Arena.ofConfined(); MoeKernel kernel = PROVIDER.create(spec, HOST)) {
            MoeWeights w = RandomMoe.weights(spec, seed, arena);
            Map<Integer, LoraAdapter> adapters = new HashMap<>();
            for (int s = 0; s < spec.adapterSlots(); s++) {
                // ranks at and below the maximum
                adapters.put(s, RandomMoe.lora(spec, s % 2 == 0 ? rank : Math.max(1, rank / 2), seed + 100 + s, arena));
            }
            // adapters loaded before prepare and after it
            kernel.loadAdapter(0, adapters.get(0));
            kernel.prepare(w);
            adapters.forEach(kernel::loadAdapter);
            HostTensor hidden = RandomMoe.hidden(t, spec.hiddenSize(), DType.BF16, seed + 1, arena);
            Routing routing = Routing.logits(RandomMoe.routerLogits(t, spec.experts(), seed + 2, arena));
            HostTensor ids = RandomMoe.adapterIds(t, spec.adapterSlots(), seed + 3, arena);
            HostTensor out = CpuTestSupport.nanFilled(arena, DType.F32, t, spec.hiddenSize());
            kernel.forward(hidden, routing, ids, out);
            HostTensor want = HostTensor.allocate(arena, DType.F32, t, spec.hiddenSize());
            ReferenceMoe.forward(spec, w, hidden, routing, new LoraInput(adapters, ids), want);
            double err = RelativeError.l2(out, want);
            assertThat(err).as("relative L2 error vs the reference").isLessThanOrEqualTo(TOLERANCE);
            if (java.util.Arrays.stream(io.moeoracle.api.tensor.LoraArgs.read(ids)).anyMatch(a -> a >= 0)) {
                HostTensor base = HostTensor.allocate(arena, DType.F32, t, spec.hiddenSize());
                ReferenceMoe.forward(spec, w, hidden, routing, base);
                assertThat(RelativeError.l2(out, base)).as("the adapters change the output").isGreaterThan(5 * TOLERANCE);
            }
        }
    }

    @Test
    void adaptersAreReplacedAndUnloadedAndPlainForwardIgnoresThem() {
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(8).topK(2).hiddenSize(64).intermediateSize(96)
                .quant(QuantScheme.MXFP4_BF16).lora(16, 2).build();
        try (Arena arena = Arena.ofConfined(); MoeKernel kernel = PROVIDER.create(spec, HOST)) {
            MoeWeights w = RandomMoe.weights(spec, 1, arena);
            kernel.prepare(w);
            int t = 6;
            HostTensor hidden = RandomMoe.hidden(t, 64, DType.F32, 2, arena);
            Routing routing = Routing.logits(RandomMoe.routerLogits(t, 8, 3, arena));
            HostTensor ids = HostTensor.allocate(arena, DType.I32, t);
            for (int j = 0; j < t; j++) {
                ids.data().setAtIndex(ValueLayout.JAVA_INT, j, j % 2 == 0 ? 1 : -1);
            }
            HostTensor out = HostTensor.allocate(arena, DType.F32, t, 64);
            assertThatThrownBy(() -> kernel.forward(hidden, routing, ids, out)).isInstanceOf(BadInputException.class)
                    .hasMessageContaining("adapter id 1 of token 0 names an empty slot");
            LoraAdapter a = RandomMoe.lora(spec, 16, 7, arena);
            LoraAdapter b = RandomMoe.lora(spec, 4, 8, arena);
            kernel.loadAdapter(1, a);
            kernel.loadAdapter(1, b);
            kernel.forward(hidden, routing, ids, out);
            HostTensor want = HostTensor.allocate(arena, DType.F32, t, 64);
            ReferenceMoe.forward(spec, w, hidden, routing, new LoraInput(Map.of(1, b), ids), want);
            assertThat(RelativeError.l2(out, want)).isLessThanOrEqualTo(TOLERANCE);
            HostTensor plain = HostTensor.allocate(arena, DType.F32, t, 64);
            kernel.forward(hidden, routing, plain);
            HostTensor base = HostTensor.allocate(arena, DType.F32, t, 64);
            ReferenceMoe.forward(spec, w, hidden, routing, base);
            assertThat(RelativeError.l2(plain, base)).isLessThanOrEqualTo(TOLERANCE);
            // tokens with -1 equal the plain forward exactly (same kernels, no term added)
            for (int j = 1; j < t; j += 2) {
                for (int c = 0; c < 64; c++) {
                    assertThat(out.data().getAtIndex(ValueLayout.JAVA_FLOAT, j * 64L + c))
                            .isEqualTo(plain.data().getAtIndex(ValueLayout.JAVA_FLOAT, j * 64L + c));
                }
            }
            kernel.unloadAdapter(1);
            assertThatThrownBy(() -> kernel.forward(hidden, routing, ids, out)).hasMessageContaining("empty slot");
            assertThatThrownBy(() -> kernel.loadAdapter(2, a)).hasMessageContaining("slot 2 is outside [0, 2)");
            assertThatThrownBy(() -> kernel.loadAdapter(0, RandomMoe.lora(spec, 32, 9, arena)))
                    .hasMessageContaining("maxLoraRank 16");
        }
    }

    @Test
    void aKernelWithoutLoraRefusesAdapters() {
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(4).topK(2).hiddenSize(64).intermediateSize(64)
                .quant(QuantScheme.MXFP4_BF16).build();
        try (Arena arena = Arena.ofConfined(); MoeKernel kernel = PROVIDER.create(spec, HOST)) {
            MoeLayerSpec loraSpec = spec.toBuilder().lora(8, 1).build();
            assertThatThrownBy(() -> kernel.loadAdapter(0, RandomMoe.lora(loraSpec, 8, 1, arena)))
                    .isInstanceOf(BadInputException.class).hasMessageContaining("lora=false");
            assertThat(List.of(kernel.spec().lora())).containsExactly(false);
        }
    }
}
