package io.moeoracle.reference;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RandomMoeTest {
    private static final long SEED = System.nanoTime();

    private static final MoeLayerSpec SPEC = MoeLayerSpec.builder().experts(4).topK(2).hiddenSize(64)
            .intermediateSize(96).build();

    private static boolean same(HostTensor a, HostTensor b) {
        return a.dtype() == b.dtype() && a.byteSize() == b.byteSize() && a.data().mismatch(b.data()) == -1;
    }

    @Test
    void sameSeedSameBytesOtherSeedOtherBytes() {
        try (Arena arena = Arena.ofConfined()) {
            MoeWeights a = RandomMoe.weights(SPEC, SEED, arena);
            MoeWeights b = RandomMoe.weights(SPEC, SEED, arena);
            MoeWeights c = RandomMoe.weights(SPEC, SEED + 1, arena);
            a.validate(SPEC);
            assertThat(same(a.w13(), b.w13())).isTrue();
            assertThat(same(a.w2Scales().get(), b.w2Scales().get())).isTrue();
            assertThat(same(a.w13Bias().get(), b.w13Bias().get())).isTrue();
            assertThat(same(a.w13(), c.w13())).isFalse();
            assertThat(same(RandomMoe.hidden(3, 64, DType.BF16, SEED, arena),
                    RandomMoe.hidden(3, 64, DType.BF16, SEED, arena))).isTrue();
            assertThat(same(RandomMoe.routerLogits(3, 8, SEED, arena),
                    RandomMoe.routerLogits(3, 8, SEED + 1, arena))).isFalse();
        }
    }

    @Test
    void sharedAndConfinedArenasGiveTheSameBytes() {
        try (Arena confined = Arena.ofConfined(); Arena shared = Arena.ofShared()) {
            MoeWeights a = RandomMoe.weights(SPEC, SEED, confined);
            MoeWeights b = RandomMoe.weights(SPEC, SEED, shared);
            assertThat(same(a.w13(), b.w13())).isTrue();
            assertThat(same(a.w13Scales().get(), b.w13Scales().get())).isTrue();
            assertThat(same(a.w2Bias().get(), b.w2Bias().get())).isTrue();
        }
    }

    @Test
    void scalesAreInTheDocumentedRangeAndNibblesCoverAllCodes() {
        try (Arena arena = Arena.ofConfined()) {
            MoeWeights w = RandomMoe.weights(SPEC, SEED, arena);
            MemorySegment s = w.w13Scales().get().data();
            Set<Integer> codes = new HashSet<>();
            for (long i = 0; i < s.byteSize(); i++) {
                codes.add(s.get(ValueLayout.JAVA_BYTE, i) & 0xFF);
            }
            assertThat(codes).containsExactlyInAnyOrder(120, 121, 122, 123);
            Set<Integer> nibbles = new HashSet<>();
            MemorySegment v = w.w2().data();
            for (long i = 0; i < v.byteSize(); i++) {
                nibbles.add(v.get(ValueLayout.JAVA_BYTE, i) & 0xF);
            }
            assertThat(nibbles).hasSize(16);
        }
    }

    @Test
    void bf16WeightsAndBiasesHaveTheExpectedShapesAndSpread() {
        MoeLayerSpec spec = SPEC.toBuilder().quant(QuantScheme.BF16).build();
        try (Arena arena = Arena.ofConfined()) {
            MoeWeights w = RandomMoe.weights(spec, SEED, arena);
            w.validate(spec);
            double sq = 0;
            HostTensor b = w.w2Bias().get();
            for (long i = 0; i < b.numel(); i++) {
                float x = io.moeoracle.api.quant.Bf16.toFloat(b.data().getAtIndex(ValueLayout.JAVA_SHORT, i));
                sq += x * x;
            }
            assertThat(Math.sqrt(sq / b.numel())).isBetween(0.03, 0.07);
            MoeLayerSpec noBias = SPEC.toBuilder().hasBias(false).expertParallel(2, 1).build();
            MoeWeights nb = RandomMoe.weights(noBias, SEED, arena);
            nb.validate(noBias);
            assertThat(nb.w13Bias()).isEmpty();
        }
    }

    @Test
    void topKHasDistinctIdsAndWeightsSummingToOne() {
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(5).topK(5).hiddenSize(32).intermediateSize(32).build();
        try (Arena arena = Arena.ofConfined()) {
            Routing.TopK r = RandomMoe.topK(spec, 40, SEED, arena);
            HostTensor ids = (HostTensor) r.ids();
            HostTensor w = (HostTensor) r.weights();
            for (int t = 0; t < 40; t++) {
                Set<Integer> seen = new HashSet<>();
                double sum = 0;
                for (int j = 0; j < 5; j++) {
                    int id = ids.data().getAtIndex(ValueLayout.JAVA_INT, t * 5 + j);
                    assertThat(id).isBetween(0, 4);
                    seen.add(id);
                    float x = w.data().getAtIndex(ValueLayout.JAVA_FLOAT, t * 5 + j);
                    assertThat(x).isPositive();
                    sum += x;
                }
                assertThat(seen).hasSize(5);
                assertThat(sum).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
            }
        }
    }
}
