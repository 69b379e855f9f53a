package io.moeoracle.reference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.CapturedForward;
import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.api.spec.Activation;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.DeviceTensor;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.api.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@link ForwardCase} and {@link ForwardChecks} on the host: the emulation kernel (the reference
 * itself) passes with only the output's rounding as error, through host tensors and through a
 * host-backed stand-in for device tensors; a kernel that skips a row is caught; the router logits
 * starve and favour the experts the case says.
 */
class ForwardCaseTest {
    private static final DeviceInfo CPU = new DeviceInfo("cpu", Vendor.CPU, "x86-64-avx2", "test cpu", 2, 1L << 33,
            Set.of(), false);
    private static final MoeLayerSpec SPEC = MoeLayerSpec.builder().experts(8).topK(2).hiddenSize(64)
            .intermediateSize(32).quant(QuantScheme.MXFP4_BF16).hasBias(true).maxTokensPerCall(64).build();

    private final long seed = System.nanoTime();
    private final SplittableRandom rnd = new SplittableRandom(seed);

    @Test
    void theReferenceItselfPassesThroughHostAndDeviceTensors() {
        try (Arena arena = Arena.ofShared(); MoeKernel emulation = new EmulationProvider().create(SPEC, CPU);
             HostBacked kernel = new HostBacked(emulation)) {
            MoeWeights w = RandomMoe.weights(SPEC, rnd.nextLong(), arena);
            emulation.prepare(w);
            for (boolean device : new boolean[] {false, true}) {
                for (boolean logits : new boolean[] {false, true}) {
                    ForwardCase c = ForwardCase.of(40, logits, true, device, DType.F32, DType.BF16, 12);
                    double[] err = c.errors(kernel, w, rnd, SPEC.toBuilder().activation(Activation.GELU).build());
                    assertThat(err).as("seed %d %s", seed, c.describe()).hasSize(2);
                    assertThat(err[0]).as("seed %d %s", seed, c.describe()).isLessThan(5e-3);
                    assertThat(err[1]).as("against another activation").isGreaterThan(1e-2);
                }
            }
            assertThat(kernel.open.get()).as("device tensors left open").isZero();
            assertThat(kernel.deviceCalls.get()).isEqualTo(2);
        }
    }

    @Test
    void anUnwrittenRowIsCaught() {
        try (Arena arena = Arena.ofShared(); MoeKernel emulation = new EmulationProvider().create(SPEC, CPU)) {
            MoeWeights w = RandomMoe.weights(SPEC, rnd.nextLong(), arena);
            emulation.prepare(w);
            ForwardCase.Forward skipsTheLastRow = (hidden, routing, out) -> {
                HostTensor copy = HostTensor.allocate(arena, out.dtype(), out.shape());
                emulation.forward(hidden, routing, copy);
                long rowBytes = out.byteSize() / out.dim(0);
                MemorySegment.copy(copy.data(), 0, out.data(), 0, out.byteSize() - rowBytes);
            };
            ForwardCase c = ForwardCase.of(5, true, false, false, DType.BF16, DType.F32, 5);
            assertThatThrownBy(() -> c.errors(SPEC, w, rnd, skipsTheLastRow))
                    .isInstanceOf(AssertionError.class).hasMessageContaining("out element " + 4 * 64 + " of [5, 64]")
                    .hasMessageContaining("not (or wrongly) written");
        }
    }

    @Test
    void coldExpertsGetNoTokenAndTheHotOneMost() {
        MoeLayerSpec ep = SPEC.toBuilder().expertParallel(2, 1).build(); // local experts 4..7, cold: 7
        int t = 400;
        int[] perExpert = new int[8];
        ForwardCase.Forward count = (hidden, routing, out) -> {
            HostTensor ids = (HostTensor) ((Routing.TopK) routing).ids();
            for (int i : ids.data().toArray(java.lang.foreign.ValueLayout.JAVA_INT)) {
                perExpert[i]++;
            }
            out.data().fill((byte) 0);
        };
        try (Arena arena = Arena.ofShared()) {
            MoeWeights w = RandomMoe.weights(ep, rnd.nextLong(), arena);
            new ForwardCase(t, false, true, true, false, DType.BF16, DType.F32, 2).errors(ep, w, rnd, count);
        }
        assertThat(perExpert[7]).as("seed %d: the cold quarter of rank 1's experts, %s", seed,
                Arrays.toString(perExpert)).isZero();
        int hottest = Arrays.stream(perExpert, 4, 7).max().orElseThrow();
        assertThat(hottest).as("seed %d: the hot expert, %s", seed, Arrays.toString(perExpert))
                .isGreaterThan(t * 6 / 10);
    }

    @Test
    void sampledRowsIncludeBothEndsAndAreDistinct() {
        for (int n = 0; n < 50; n++) {
            int t = 3 + rnd.nextInt(500);
            int max = 2 + rnd.nextInt(40);
            int[] rows = ForwardChecks.pickRows(rnd, t, max);
            assertThat(rows).hasSize(Math.min(t, max)).isSorted().doesNotHaveDuplicates();
            assertThat(rows[0]).isZero();
            assertThat(rows[rows.length - 1]).isEqualTo(t - 1);
        }
        assertThat(ForwardChecks.pickRows(rnd, 5, 9)).containsExactly(0, 1, 2, 3, 4);
        assertThatThrownBy(() -> ForwardChecks.pickRows(rnd, 5, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least 2");
    }

    @Test
    void replayingARecordingMatchesTheReferenceEachRound() {
        try (Arena arena = Arena.ofShared(); MoeKernel emulation = new EmulationProvider().create(SPEC, CPU);
             HostBacked kernel = new HostBacked(emulation)) {
            MoeWeights w = RandomMoe.weights(SPEC, rnd.nextLong(), arena);
            emulation.prepare(w);
            double[] err = ForwardCase.replayCaptured(kernel, w, 6, DType.BF16, 3, rnd);
            assertThat(err).hasSize(3);
            assertThat(Arrays.stream(err).max().orElseThrow()).as("worst round").isLessThan(1e-5);
            assertThat(kernel.deviceCalls.get()).isEqualTo(3);
            assertThat(kernel.open.get()).isZero();
            assertThatThrownBy(() -> ForwardCase.replayCaptured(emulation, w, 6, DType.BF16, 1, rnd))
                    .isInstanceOf(UnsupportedOperationException.class); // host-only: allocates nothing
        }
    }

    @Test
    void theGptOssSweepAndShapes() {
        List<ForwardCase> sweep = ForwardCase.gptOssSweep();
        assertThat(sweep).extracting(ForwardCase::tokens).containsExactly(1, 7, 64, 300, 4096);
        assertThat(sweep).extracting(ForwardCase::checkRows).containsExactly(1, 7, 64, 32, 32);
        assertThat(sweep).filteredOn(c -> !c.logitsRouting()).extracting(ForwardCase::tokens).containsExactly(64);
        assertThat(sweep).filteredOn(ForwardCase::hotExpert).extracting(ForwardCase::tokens).containsExactly(300);
        assertThat(sweep).filteredOn(c -> !c.deviceTensors()).extracting(ForwardCase::tokens).containsExactly(7);
        MoeLayerSpec big = ForwardCase.gptOssLayer(120).build();
        assertThat(List.of(big.experts(), big.topK(), big.hiddenSize(), big.intermediateSize()))
                .containsExactly(128, 4, 2880, 2880);
        assertThat(ForwardCase.gptOssLayer(20).build().experts()).isEqualTo(32);
        assertThatThrownBy(() -> ForwardCase.gptOssLayer(7)).hasMessageContaining("20b and 120b");
    }

    /** The emulation kernel behind host-backed "device" tensors, with a recording that replays the call. */
    private static final class HostBacked implements MoeKernel {
        final MoeKernel inner;
        final AtomicInteger open = new AtomicInteger();
        final AtomicInteger deviceCalls = new AtomicInteger();
        private final Arena arena = Arena.ofShared();

        HostBacked(MoeKernel inner) {
            this.inner = inner;
        }

        @Override
        public String providerId() {
            return "host-backed";
        }

        @Override
        public MoeLayerSpec spec() {
            return inner.spec();
        }

        @Override
        public DeviceInfo device() {
            return inner.device();
        }

        @Override
        public void prepare(MoeWeights weights) {
            inner.prepare(weights);
        }

        @Override
        public boolean isPrepared() {
            return inner.isPrepared();
        }

        @Override
        public void forward(Tensor hidden, Routing routing, Tensor out) {
            if (hidden instanceof Fake) {
                deviceCalls.incrementAndGet();
            }
            Routing r = switch (routing) {
                case Routing.Logits l -> Routing.logits(host(l.logits()));
                case Routing.TopK tk -> Routing.topK(host(tk.ids()), host(tk.weights()));
            };
            inner.forward(host(hidden), r, host(out));
        }

        private static HostTensor host(Tensor t) {
            return t instanceof Fake f ? f.data : (HostTensor) t;
        }

        @Override
        public DeviceTensor allocate(DType dtype, long... shape) {
            open.incrementAndGet();
            return new Fake(HostTensor.allocate(arena, dtype, shape), open);
        }

        @Override
        public Optional<CapturedForward> capture(Tensor hidden, Routing routing, Tensor out) {
            return Optional.of(new CapturedForward() {
                @Override
                public void replay() {
                    forward(hidden, routing, out);
                }

                @Override
                public void close() {
                }
            });
        }

        @Override
        public void close() {
            arena.close();
        }
    }

    private record Fake(HostTensor data, AtomicInteger open) implements DeviceTensor {
        @Override
        public String deviceId() {
            return "fake:0";
        }

        @Override
        public DType dtype() {
            return data.dtype();
        }

        @Override
        public long[] shape() {
            return data.shape();
        }

        @Override
        public void copyFrom(HostTensor src) {
            MemorySegment.copy(src.data(), 0, data.data(), 0, data.byteSize());
        }

        @Override
        public void copyTo(HostTensor dst) {
            MemorySegment.copy(data.data(), 0, dst.data(), 0, data.byteSize());
        }

        @Override
        public void close() {
            open.decrementAndGet();
        }
    }
}
