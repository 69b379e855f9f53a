package io.moeoracle.backend.flashinfer;

import static io.moeoracle.reference.ForwardChecks.assertFullyWritten;
import static io.moeoracle.reference.ForwardChecks.poison;
import static io.moeoracle.reference.ForwardChecks.poisoned;
import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.driver.cuda.testing.CudaDeviceTest;
import io.moeoracle.reference.ForwardCase;
import io.moeoracle.reference.RandomLayer;
import io.moeoracle.reference.RandomMoe;
import io.moeoracle.reference.ReferenceMoe;
import io.moeoracle.reference.RelativeError;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One flashinfer provider against the float64 reference on a real NVIDIA GPU (the subclasses pick
 * the provider and the FP8 MMA): relative L2 at most 1e-2 against the matching reference (for
 * MXFP8, the reference with MXFP8 quantize-dequantize of both GEMM inputs; the error against the
 * unquantized reference is logged beside it), fresh random inputs every run (seed logged), outputs
 * NaN-filled before each call and checked to be fully written. Large calls compare a random subset
 * of rows with the (slow) reference; the kernel still computes every row.
 */
@Tag("gpu")
abstract class FlashinferGpuCases extends CudaDeviceTest {
    static final double TOLERANCE = 1e-2;
    final Logger log = LoggerFactory.getLogger(getClass());

    /** @return whether this class tests flashinfer-mxfp8 (else flashinfer-bf16) */
    abstract boolean fp8();

    /** @return the value of moe.flashinfer.fp8Mma this class runs with, or "" for unset */
    String fp8Mma() {
        return "";
    }

    @BeforeEach
    void logSetting() {
        log.info("fp8Mma '{}'", fp8Mma());
    }

    MoeKernelProvider provider() {
        return fp8() ? new FlashinferMxfp8Provider() : new FlashinferBf16Provider();
    }

    QuantScheme scheme() {
        return fp8() ? QuantScheme.MXFP4_MXFP8 : QuantScheme.MXFP4_BF16;
    }

    /** Runs {@code body} with this class's moe.flashinfer.fp8Mma in force. */
    <T> T withSetting(Supplier<T> body) {
        String name = FlashinferSettings.FP8_MMA.name();
        String old = System.getProperty(name);
        if (!fp8Mma().isEmpty()) {
            System.setProperty(name, fp8Mma());
        }
        try {
            return body.get();
        } finally {
            if (old == null) {
                System.clearProperty(name);
            } else {
                System.setProperty(name, old);
            }
        }
    }

    /** Creates the kernel; skips (with the verdict's reason) on a GPU this provider does not run on. */
    FiKernel create(MoeLayerSpec spec) {
        return withSetting(() -> {
            SupportVerdict v = provider().isSupported(spec, device);
            Assumptions.assumeTrue(v.isSupported(), () -> provider().id() + " does not run here: " + v);
            FiKernel k = (FiKernel) provider().create(spec, device);
            log.info("{}: M tiles {}", k, Arrays.toString(k.offeredM()));
            return k;
        });
    }

    /** The families this class must run on this device. */
    List<FiFamily> expectedFamilies() {
        int sm = device.smVersion().orElse(0);
        return FiRules.families(fp8(), sm, FlashinferSettings.parseFp8Mma(fp8Mma().isEmpty() ? "auto" : fp8Mma()));
    }

    /**
     * One call on fresh random inputs ({@link ForwardCase}).
     *
     * @return the relative L2 error against the matching reference, and (MXFP8) against the unquantized one
     */
    double[] runCase(FiKernel k, MoeWeights w, ForwardCase c) {
        if (!fp8()) {
            return new double[] {c.error(k, w, rnd), Double.NaN};
        }
        return c.errors(k, w, rnd, k.spec().toBuilder().quant(QuantScheme.MXFP4_BF16).build());
    }

    String errors(double[] err) {
        return fp8() ? String.format("relL2 %.3e vs the MXFP8 reference, %.3e vs the unquantized one", err[0], err[1])
                : String.format("relL2 %.3e", err[0]);
    }

    // ------------------------------------------------------------------------------------------

    static IntStream specIndex() {
        return IntStream.range(0, 24);
    }

    @ParameterizedTest(name = "random spec {0}")
    @MethodSource("specIndex")
    void randomSpecsMatchTheReference(int index) {
        RandomLayer drawn = RandomLayer.draw(rnd, scheme());
        int t = drawn.tokens();
        MoeLayerSpec spec = drawn.spec();
        try (Arena arena = Arena.ofShared(); FiKernel kernel = create(spec)) {
            assertThat(kernel.families()).isEqualTo(expectedFamilies());
            MoeWeights w = RandomMoe.weights(spec, rnd.nextLong(), arena);
            kernel.prepare(w);
            int[] offered = kernel.offeredM();
            int forced = rnd.nextInt(3) == 0 ? offered[rnd.nextInt(offered.length)] : 0;
            kernel.forceM(forced);
            boolean logits = rnd.nextBoolean();
            boolean dev = rnd.nextBoolean();
            DType hd = rnd.nextBoolean() ? DType.BF16 : DType.F32;
            DType od = rnd.nextBoolean() ? DType.BF16 : DType.F32;
            ForwardCase c = ForwardCase.of(t, logits, rnd.nextInt(3) == 0, dev, hd, od, 300);
            String what = c.describe() + " M=" + (forced == 0 ? "auto (" + kernel.plan(t).m() + ")" : forced)
                    + " " + kernel.launches().familyFor(forced == 0 ? kernel.plan(t).m() : forced);
            log.info("running {} {}", spec.describe(), what); // names the case should a kernel never return
            double[] err = runCase(kernel, w, c);
            log.info("{} {}: {}", spec.describe(), what, errors(err));
            assertThat(err[0]).as(spec.describe() + " " + what).isLessThanOrEqualTo(TOLERANCE);
        }
    }

    @Test
    void gptOss120bLayerMatchesTheReference() {
        MoeLayerSpec spec = ForwardCase.gptOssLayer(120).quant(scheme()).maxTokensPerCall(4096).build();
        try (Arena arena = Arena.ofShared(); FiKernel kernel = create(spec)) {
            MoeWeights w = RandomMoe.weights(spec, rnd.nextLong(), arena);
            kernel.prepare(w);
            for (ForwardCase c : ForwardCase.gptOssSweep()) { // large calls: the reference on a sample of rows
                double[] err = runCase(kernel, w, c);
                log.info("gpt-oss-120b {} M={}: {}", c.describe(), kernel.plan(c.tokens()).m(), errors(err));
                assertThat(err[0]).as("gpt-oss-120b T=%d", c.tokens()).isLessThanOrEqualTo(TOLERANCE);
            }
        }
    }

    @Test
    void everyOfferedTileMatchesTheReferenceAtDecodeAndPrefillSizes() {
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(16).topK(4).hiddenSize(32 * (8 + rnd.nextInt(20)))
                .intermediateSize(32 * (8 + rnd.nextInt(20))).quant(scheme()).hasBias(true).maxTokensPerCall(256).build();
        try (Arena arena = Arena.ofShared(); FiKernel kernel = create(spec)) {
            MoeWeights w = RandomMoe.weights(spec, rnd.nextLong(), arena);
            kernel.prepare(w);
            for (int m : kernel.offeredM()) {
                kernel.forceM(m);
                for (int t : new int[] {1, 256}) {
                    double[] err = runCase(kernel, w, ForwardCase.of(t, true, false, true, DType.BF16, DType.F32, 64));
                    log.info("{} T={} M={} ({}): {}", spec.describe(), t, m, kernel.launches().familyFor(m), errors(err));
                    assertThat(err[0]).as("T=%d M=%d", t, m).isLessThanOrEqualTo(TOLERANCE);
                }
            }
            kernel.forceM(0);
        }
    }

    @Test
    void capturedForwardReplaysOnNewInputContents() {
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(32).topK(4).hiddenSize(2880).intermediateSize(2880)
                .quant(scheme()).maxTokensPerCall(64).build();
        int t = 8;
        try (Arena arena = Arena.ofShared(); FiKernel kernel = create(spec)) {
            MoeWeights w = RandomMoe.weights(spec, rnd.nextLong(), arena);
            kernel.prepare(w);
            for (DType hiddenType : new DType[] {DType.BF16, DType.F32}) {
                double[] err = ForwardCase.replayCaptured(kernel, w, t, hiddenType, 3, rnd);
                for (int round = 0; round < err.length; round++) {
                    log.info("graph replay {} (hidden {}): relL2 {}", round, hiddenType, err[round]);
                    assertThat(err[round]).isLessThanOrEqualTo(TOLERANCE);
                }
            }
        }
    }

    @Test
    void devicePaddedRepackEqualsTheJavaLayout() {
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(4).topK(2).hiddenSize(160).intermediateSize(96)
                .quant(scheme()).maxTokensPerCall(16).build();
        try (Arena arena = Arena.ofShared(); FiKernel kernel = create(spec)) {
            MoeWeights w = RandomMoe.weights(spec, rnd.nextLong(), arena);
            kernel.prepare(w);
            for (boolean w13 : new boolean[] {true, false}) {
                int nReal = w13 ? 2 * 96 : 160;
                int kReal = w13 ? 160 : 96;
                int nPad = w13 ? 2 * FiLayout.pad(96) : FiLayout.pad(160);
                int kPad = w13 ? FiLayout.pad(160) : FiLayout.pad(96);
                HostTensor blocks = w13 ? w.w13() : w.w2();
                HostTensor scales = (w13 ? w.w13Scales() : w.w2Scales()).orElseThrow();
                var q = arena.allocate(FiLayout.weightBytes(4, nPad, kPad));
                var s = arena.allocate(FiLayout.scaleBytes(4, nPad, kPad));
                FiLayout.repack(blocks.data(), scales.data(), 4, nReal, kReal, nPad, kPad, q, s);
                byte[][] dev = kernel.paddedLayout(w, w13);
                assertThat(dev[0]).as(w13 ? "w13" : "w2").isEqualTo(q.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
                assertThat(dev[1]).as(w13 ? "w13 scales" : "w2 scales")
                        .isEqualTo(s.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            }
        }
    }

    /**
     * E8M0 weight scales at the ends prepare takes, applied exactly: every w13 scale 2^-127 (code 0) with
     * the hidden state scaled by 2^115, every w2 scale at the family's limit (254, or ABI.md's 250) with
     * the hidden state scaled by 2^-55 and zero biases; a code above the limit is refused before anything
     * is launched.
     */
    @Test
    void scaleCodesUpToTheLimitRunExactlyAndAboveItAreRefused() {
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(8).topK(2).hiddenSize(256).intermediateSize(192)
                .quant(scheme()).maxTokensPerCall(16).build();
        for (boolean w13Low : new boolean[] {true, false}) {
            try (Arena arena = Arena.ofShared(); FiKernel kernel = create(spec)) {
                MoeWeights w = RandomMoe.weights(spec, rnd.nextLong(), arena);
                if (w13Low) {
                    w.w13Scales().orElseThrow().data().fill((byte) 0);
                } else {
                    w.w2Scales().orElseThrow().data().fill((byte) kernel.families().getFirst().maxScaleCode());
                    w.w13Bias().ifPresent(b -> b.data().fill((byte) 0));
                    w.w2Bias().ifPresent(b -> b.data().fill((byte) 0));
                }
                kernel.prepare(w);
                int t = 9;
                HostTensor hidden = RandomMoe.hidden(t, 256, DType.F32, rnd.nextLong(), arena);
                float factor = w13Low ? 0x1p115f : 0x1p-55f;
                for (long i = 0; i < hidden.numel(); i++) {
                    hidden.data().setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, i, factor
                            * hidden.data().getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, i));
                }
                Routing routing = Routing.logits(RandomMoe.routerLogits(t, 8, rnd.nextLong(), arena));
                HostTensor out = poisoned(arena, DType.F32, t, 256);
                kernel.forward(hidden, routing, out);
                assertFullyWritten(out);
                HostTensor ref = HostTensor.allocate(arena, DType.F32, t, 256);
                ReferenceMoe.forward(spec, w, hidden, routing, ref);
                double err = RelativeError.l2(out, ref);
                log.info("{}: relL2 {}", w13Low ? "w13 scales all code 0" : "w2 scales all code "
                        + kernel.families().getFirst().maxScaleCode(), err);
                assertThat(err).isLessThanOrEqualTo(TOLERANCE);
                int limit = kernel.families().getFirst().maxScaleCode();
                if (!w13Low && limit < 254) {
                    w.w2Scales().orElseThrow().data().set(java.lang.foreign.ValueLayout.JAVA_BYTE, 5, (byte) (limit + 1));
                    org.assertj.core.api.Assertions.assertThatThrownBy(() -> kernel.prepare(w))
                            .isInstanceOf(io.moeoracle.api.error.BadInputException.class)
                            .hasMessageContaining("w2Scales").hasMessageContaining(String.valueOf(limit + 1))
                            .hasMessageContaining(String.valueOf(limit));
                }
            }
        }
    }

    @Test
    void badInputRaisesBeforeAnyLaunch() {
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(8).topK(2).hiddenSize(128).intermediateSize(64)
                .quant(scheme()).maxTokensPerCall(16).build();
        FiKernel kernel = create(spec);
        try (Arena arena = Arena.ofShared()) {
            HostTensor hidden = RandomMoe.hidden(4, 128, DType.BF16, rnd.nextLong(), arena);
            HostTensor logits = RandomMoe.routerLogits(4, 8, rnd.nextLong(), arena);
            HostTensor out = HostTensor.allocate(arena, DType.F32, 4, 128);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> kernel.forward(hidden, Routing.logits(logits), out))
                    .isInstanceOf(io.moeoracle.api.error.KernelStateException.class).hasMessageContaining("not prepared");
            MoeWeights w = RandomMoe.weights(spec, rnd.nextLong(), arena);
            MoeLayerSpec other = spec.toBuilder().hiddenSize(256).build();
            MoeWeights otherWeights = RandomMoe.weights(other, rnd.nextLong(), arena);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> kernel.prepare(otherWeights))
                    .isInstanceOf(io.moeoracle.api.error.BadInputException.class);
            kernel.prepare(w);
            HostTensor tooMany = RandomMoe.hidden(17, 128, DType.BF16, rnd.nextLong(), arena);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> kernel.forward(tooMany,
                    Routing.logits(RandomMoe.routerLogits(17, 8, 1, arena)), HostTensor.allocate(arena, DType.F32, 17, 128)))
                    .isInstanceOf(io.moeoracle.api.error.BadInputException.class).hasMessageContaining("maxTokensPerCall");
            HostTensor ids = HostTensor.allocate(arena, DType.I32, 4, 2);
            ids.data().setAtIndex(java.lang.foreign.ValueLayout.JAVA_INT, 3, 8);
            HostTensor wts = HostTensor.allocate(arena, DType.F32, 4, 2);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> kernel.forward(hidden, Routing.topK(ids, wts), out))
                    .isInstanceOf(io.moeoracle.api.error.BadInputException.class).hasMessageContaining("outside");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> kernel.capture(hidden, Routing.logits(logits), out))
                    .isInstanceOf(io.moeoracle.api.error.BadInputException.class).hasMessageContaining("device tensors");
            poison(out);
            kernel.forward(hidden, Routing.logits(logits), out); // still works after all that
            assertFullyWritten(out);
            kernel.close();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> kernel.forward(hidden, Routing.logits(logits), out))
                    .isInstanceOf(io.moeoracle.api.error.KernelStateException.class).hasMessageContaining("closed");
        } finally {
            kernel.close();
        }
    }
}
