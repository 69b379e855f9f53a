package io.moeoracle.reference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.quant.Bf16;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.LoraAdapter;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The reference's LoRA terms checked against the same layer with each adapter merged into its weights. */
class ReferenceLoraTest {
    private static final MoeLayerSpec SPEC = MoeLayerSpec.builder().experts(4).topK(2).hiddenSize(64)
            .intermediateSize(32).quant(QuantScheme.BF16).lora(8, 2).build();

    @Test
    void loraTermsEqualTheMergedWeightsPerTokenAndNoneLeavesTheBase() {
        try (Arena arena = Arena.ofConfined()) {
            MoeWeights w = RandomMoe.weights(SPEC, 3, arena);
            LoraAdapter a0 = RandomMoe.lora(SPEC, 8, 11, arena);
            LoraAdapter a1 = RandomMoe.lora(SPEC, 4, 12, arena);
            int t = 9;
            HostTensor hidden = RandomMoe.hidden(t, 64, DType.F32, 5, arena);
            Routing routing = Routing.logits(RandomMoe.routerLogits(t, 4, 6, arena));
            HostTensor ids = RandomMoe.adapterIds(t, 2, 7, arena);
            int[] id = io.moeoracle.api.tensor.LoraArgs.read(ids);
            double[] lora = ReferenceMoe.forward(SPEC, w, hidden, routing, new LoraInput(Map.of(0, a0, 1, a1), ids));
            double[] base = ReferenceMoe.forward(SPEC, w, hidden, routing);
            double[][] merged = {ReferenceMoe.forward(SPEC, merge(w, a0, arena), hidden, routing),
                ReferenceMoe.forward(SPEC, merge(w, a1, arena), hidden, routing)};
            assertThat(id).contains(-1, 0, 1);
            for (int tok = 0; tok < t; tok++) {
                double[] got = row(lora, tok);
                if (id[tok] < 0) {
                    assertThat(got).containsExactly(row(base, tok));
                } else {
                    assertThat(rel(got, row(merged[id[tok]], tok))).as("token %d adapter %d", tok, id[tok])
                            .isLessThan(1e-2);
                    assertThat(rel(got, row(base, tok))).as("the adapter changes token %d", tok).isGreaterThan(5e-2);
                }
            }
        }
    }

    @Test
    void emulationKernelLoadsReplacesAndUnloadsAdapters() {
        DeviceInfo cpu = new DeviceInfo("cpu", Vendor.CPU, "x86-64", "test cpu", 2, 1L << 33, java.util.Set.of(),
                false);
        try (Arena arena = Arena.ofConfined();
             MoeKernel k = new EmulationProvider().create(SPEC, cpu)) {
            MoeWeights w = RandomMoe.weights(SPEC, 3, arena);
            k.prepare(w);
            int t = 4;
            HostTensor hidden = RandomMoe.hidden(t, 64, DType.F32, 5, arena);
            Routing routing = Routing.logits(RandomMoe.routerLogits(t, 4, 6, arena));
            HostTensor ids = RandomMoe.adapterIds(t, 2, 7, arena);
            HostTensor out = HostTensor.allocate(arena, DType.F32, t, 64);
            assertThatThrownBy(() -> k.forward(hidden, routing, ids, out)).isInstanceOf(BadInputException.class)
                    .hasMessageContaining("empty slot");
            LoraAdapter a0 = RandomMoe.lora(SPEC, 8, 11, arena);
            LoraAdapter a1 = RandomMoe.lora(SPEC, 4, 12, arena);
            k.loadAdapter(0, a1);
            k.loadAdapter(0, a0); // replaces
            k.loadAdapter(1, a1);
            k.forward(hidden, routing, ids, out);
            HostTensor want = HostTensor.allocate(arena, DType.F32, t, 64);
            ReferenceMoe.forward(SPEC, w, hidden, routing, new LoraInput(Map.of(0, a0, 1, a1), ids), want);
            assertThat(RelativeError.l2(out, want)).isZero();
            k.unloadAdapter(1);
            assertThatThrownBy(() -> k.forward(hidden, routing, ids, out)).hasMessageContaining("adapter id 1");
            assertThatThrownBy(() -> k.loadAdapter(2, a0)).hasMessageContaining("slot 2 is outside [0, 2)");
            assertThatThrownBy(() -> k.loadAdapter(0, RandomMoe.lora(SPEC, 16, 1, arena)))
                    .hasMessageContaining("above the layer's maxLoraRank 8");
        }
    }

    private static double[] row(double[] v, int t) {
        return java.util.Arrays.copyOfRange(v, t * 64, t * 64 + 64);
    }

    private static double rel(double[] a, double[] b) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < a.length; i++) {
            num += (a[i] - b[i]) * (a[i] - b[i]);
            den += b[i] * b[i];
        }
        return Math.sqrt(num / den);
    }

    /** BF16 weights with {@code scaling * B A} added to the gate, up and down rows (rounded to BF16). */
    private static MoeWeights merge(MoeWeights w, LoraAdapter a, Arena arena) {
        int e = 4;
        int h = 64;
        int in = 32;
        int r = a.rank();
        HostTensor w13 = HostTensor.allocate(arena, DType.BF16, e, 2 * in, h);
        HostTensor w2 = HostTensor.allocate(arena, DType.BF16, e, h, in);
        for (int x = 0; x < e; x++) {
            for (int c = 0; c < in; c++) {
                for (int col = 0; col < h; col++) {
                    double g = 0;
                    double u = 0;
                    for (int q = 0; q < r; q++) {
                        g += LoraAdapter.at(a.gateB(), ((long) x * in + c) * r + q)
                                * LoraAdapter.at(a.gateA(), ((long) x * r + q) * h + col);
                        u += LoraAdapter.at(a.upB(), ((long) x * in + c) * r + q)
                                * LoraAdapter.at(a.upA(), ((long) x * r + q) * h + col);
                    }
                    long gi = ((long) x * 2 * in + 2 * c) * h + col;
                    put(w13, gi, get(w.w13(), gi) + a.scaling() * g);
                    put(w13, gi + h, get(w.w13(), gi + h) + a.scaling() * u);
                }
            }
            for (int row = 0; row < h; row++) {
                for (int c = 0; c < in; c++) {
                    double d = 0;
                    for (int q = 0; q < r; q++) {
                        d += LoraAdapter.at(a.downB(), ((long) x * h + row) * r + q)
                                * LoraAdapter.at(a.downA(), ((long) x * r + q) * in + c);
                    }
                    long i = ((long) x * h + row) * in + c;
                    put(w2, i, get(w.w2(), i) + a.scaling() * d);
                }
            }
        }
        return new MoeWeights(w13, Optional.empty(), w.w13Bias(), w2, Optional.empty(), w.w2Bias());
    }

    private static double get(HostTensor t, long i) {
        return Bf16.toFloat(t.data().getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i));
    }

    private static void put(HostTensor t, long i, double v) {
        t.data().setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, Bf16.fromFloat((float) v));
    }
}
