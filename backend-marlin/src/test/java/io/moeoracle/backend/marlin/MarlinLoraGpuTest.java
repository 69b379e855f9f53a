package io.moeoracle.backend.marlin;

import static io.moeoracle.reference.ForwardChecks.assertFullyWritten;
import static io.moeoracle.reference.ForwardChecks.pickRows;
import static io.moeoracle.reference.ForwardChecks.poisoned;
import static io.moeoracle.reference.ForwardChecks.rowsOf;
import static io.moeoracle.reference.ForwardChecks.upload;
import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.CapturedForward;
import io.moeoracle.api.spec.Activation;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.DeviceTensor;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.LoraAdapter;
import io.moeoracle.api.tensor.LoraArgs;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.driver.cuda.testing.CudaDeviceTest;
import io.moeoracle.reference.LoraInput;
import io.moeoracle.reference.RandomMoe;
import io.moeoracle.reference.ReferenceMoe;
import io.moeoracle.reference.RelativeError;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * marlin with LoRA adapters against the float64 reference on a real NVIDIA GPU (the card is
 * logged): random specs, 1 and 4 resident adapters, ranks 8 and 64, mixed per-token adapter ids
 * including -1, every M tile (8 = the GEMV path, 16 to 128), host and device tensors, and a CUDA
 * graph replayed after an adapter was replaced; relative L2 at most 1e-2, outputs NaN-filled first.
 */
@Tag("gpu")
class MarlinLoraGpuTest extends CudaDeviceTest {
    private static final Logger LOG = LoggerFactory.getLogger(MarlinLoraGpuTest.class);
    private static final double TOLERANCE = 1e-2;

    @ParameterizedTest(name = "slots={0} rank={1} M={2}")
    @CsvSource({"1, 8, 0", "4, 8, 0", "1, 64, 0", "4, 64, 0", "4, 8, 8", "4, 64, 8", "4, 16, 16", "4, 16, 32",
        "4, 64, 64", "4, 8, 128"})
    void randomSpecsMatchTheReference(int slots, int rank, int forcedM) {
        for (int n = 0; n < 3; n++) {
            int e = 2 + rnd.nextInt(31);
            int k = 1 + rnd.nextInt(Math.min(4, e));
            int h = 32 * (2 + rnd.nextInt(20)); // multiples of 32: some need padding to 64
            int i = 32 * (2 + rnd.nextInt(20));
            int t = new int[] {1, 3, 17, 64, 200}[rnd.nextInt(5)];
            Activation act = new Activation[] {Activation.SWIGLU_OAI, Activation.SILU, Activation.GELU}[rnd.nextInt(3)];
            MoeLayerSpec spec = MoeLayerSpec.builder().experts(e).topK(k).hiddenSize(h).intermediateSize(i)
                    .quant(QuantScheme.MXFP4_BF16).activation(act).hasBias(rnd.nextBoolean()).maxTokensPerCall(256)
                    .lora(rank, slots).build();
            boolean onDevice = rnd.nextBoolean();
            double err = run(spec, t, rank, forcedM, onDevice);
            LOG.info("{} T={} M={} device={}: rel L2 {}", spec.describe(), t, forcedM, onDevice, err);
            assertThat(err).as("%s T=%d", spec.describe(), t).isLessThanOrEqualTo(TOLERANCE);
        }
    }

    private double run(MoeLayerSpec spec, int t, int rank, int forcedM, boolean onDevice) {
        try (Arena arena = Arena.ofConfined();
             MarlinKernel kernel = (MarlinKernel) new MarlinProvider().create(spec, device)) {
            MoeWeights w = RandomMoe.weights(spec, rnd.nextLong(), arena);
            Map<Integer, LoraAdapter> adapters = new HashMap<>();
            for (int s = 0; s < spec.adapterSlots(); s++) {
                adapters.put(s, RandomMoe.lora(spec, s % 2 == 0 ? rank : Math.max(1, rank / 2), rnd.nextLong(), arena));
            }
            kernel.loadAdapter(0, adapters.get(0)); // before prepare
            kernel.prepare(w);
            adapters.forEach(kernel::loadAdapter);
            kernel.forceM(forcedM);
            HostTensor hidden = RandomMoe.hidden(t, spec.hiddenSize(), DType.BF16, rnd.nextLong(), arena);
            Routing routing = Routing.logits(RandomMoe.routerLogits(t, spec.experts(), rnd.nextLong(), arena));
            HostTensor ids = RandomMoe.adapterIds(t, spec.adapterSlots(), rnd.nextLong(), arena);
            HostTensor out = poisoned(arena, DType.F32, t, spec.hiddenSize());
            if (onDevice) {
                try (DeviceTensor dh = upload(kernel, hidden);
                     DeviceTensor dl = upload(kernel, (HostTensor) ((Routing.Logits) routing).logits());
                     DeviceTensor di = upload(kernel, ids);
                     DeviceTensor dout = upload(kernel, out)) {
                    kernel.forward(dh, Routing.logits(dl), di, dout);
                    kernel.synchronize();
                    dout.copyTo(out);
                }
            } else {
                kernel.forward(hidden, routing, ids, out);
            }
            HostTensor want = HostTensor.allocate(arena, DType.F32, t, spec.hiddenSize());
            ReferenceMoe.forward(spec, w, hidden, routing, new LoraInput(adapters, ids), want);
            assertFullyWritten(out);
            return RelativeError.l2(out, want);
        }
    }

    @Test
    void aCapturedGraphSeesAdaptersLoadedAfterTheCapture() {
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(16).topK(4).hiddenSize(256).intermediateSize(192)
                .quant(QuantScheme.MXFP4_BF16).maxTokensPerCall(64).lora(16, 2).build();
        int t = 9;
        try (Arena arena = Arena.ofConfined();
             MarlinKernel kernel = (MarlinKernel) new MarlinProvider().create(spec, device)) {
            MoeWeights w = RandomMoe.weights(spec, 1, arena);
            kernel.prepare(w);
            LoraAdapter a = RandomMoe.lora(spec, 16, 2, arena);
            LoraAdapter b = RandomMoe.lora(spec, 8, 3, arena);
            LoraAdapter c = RandomMoe.lora(spec, 12, 4, arena);
            kernel.loadAdapter(0, a);
            kernel.loadAdapter(1, b);
            HostTensor hidden = RandomMoe.hidden(t, 256, DType.BF16, 5, arena);
            HostTensor logits = RandomMoe.routerLogits(t, 16, 6, arena);
            HostTensor ids = RandomMoe.adapterIds(t, 2, 7, arena);
            HostTensor out = poisoned(arena, DType.F32, t, 256);
            try (DeviceTensor dh = upload(kernel, hidden); DeviceTensor dl = upload(kernel, logits);
                 DeviceTensor di = upload(kernel, ids); DeviceTensor dout = upload(kernel, out)) {
                Optional<CapturedForward> g = kernel.capture(dh, Routing.logits(dl), di, dout);
                assertThat(g).isPresent();
                try (CapturedForward graph = g.get()) {
                    graph.replay();
                    kernel.synchronize();
                    dout.copyTo(out);
                    assertThat(error(spec, w, hidden, logits, Map.of(0, a, 1, b), ids, out, arena))
                            .isLessThanOrEqualTo(TOLERANCE);
                    kernel.loadAdapter(1, c); // replace after the capture
                    kernel.unloadAdapter(0);  // device ids naming an empty slot run without adapter
                    graph.replay();
                    kernel.synchronize();
                    dout.copyTo(out);
                    HostTensor asRun = HostTensor.allocate(arena, DType.I32, t);
                    int[] v = LoraArgs.read(ids);
                    for (int j = 0; j < t; j++) {
                        asRun.data().setAtIndex(ValueLayout.JAVA_INT, j, v[j] == 0 ? -1 : v[j]);
                    }
                    assertThat(error(spec, w, hidden, logits, Map.of(1, c), asRun, out, arena))
                            .isLessThanOrEqualTo(TOLERANCE);
                }
            }
        }
    }

    /** The gpt-oss-120b layer, rank 16, 4 adapters: decode and a 256-token batch (a sample of rows checked). */
    @ParameterizedTest(name = "T={0}")
    @CsvSource({"1", "256"})
    void gptOss120bShapeMatchesTheReference(int t) {
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(128).topK(4).hiddenSize(2880).intermediateSize(2880)
                .quant(QuantScheme.MXFP4_BF16).maxTokensPerCall(256).lora(16, 4).build();
        try (Arena arena = Arena.ofShared();
             MarlinKernel kernel = (MarlinKernel) new MarlinProvider().create(spec, device)) {
            MoeWeights w = RandomMoe.weights(spec, rnd.nextLong(), arena);
            kernel.prepare(w);
            Map<Integer, LoraAdapter> adapters = new HashMap<>();
            for (int s = 0; s < 4; s++) {
                adapters.put(s, RandomMoe.lora(spec, 16, rnd.nextLong(), arena));
                kernel.loadAdapter(s, adapters.get(s));
            }
            HostTensor hidden = RandomMoe.hidden(t, 2880, DType.BF16, rnd.nextLong(), arena);
            HostTensor logits = RandomMoe.routerLogits(t, 128, rnd.nextLong(), arena);
            HostTensor ids = RandomMoe.adapterIds(t, 4, rnd.nextLong(), arena);
            HostTensor out = poisoned(arena, DType.F32, t, 2880);
            kernel.forward(hidden, Routing.logits(logits), ids, out);
            assertFullyWritten(out);
            int[] rows = pickRows(rnd, t, 12);
            HostTensor want = HostTensor.allocate(arena, DType.F32, rows.length, 2880);
            ReferenceMoe.forward(spec, w, rowsOf(hidden, rows, arena), Routing.logits(rowsOf(logits, rows, arena)),
                    new LoraInput(adapters, rowsOf(ids, rows, arena)), want);
            double err = RelativeError.l2(rowsOf(out, rows, arena), want);
            LOG.info("gpt-oss-120b LoRA T={} on {}: rel L2 {}", t, device.describe(), err);
            assertThat(err).isLessThanOrEqualTo(TOLERANCE);
        }
    }

    private static double error(MoeLayerSpec spec, MoeWeights w, HostTensor hidden, HostTensor logits,
                                Map<Integer, LoraAdapter> adapters, HostTensor ids, HostTensor out, Arena arena) {
        HostTensor want = HostTensor.allocate(arena, DType.F32, out.shape());
        ReferenceMoe.forward(spec, w, hidden, Routing.logits(logits), new LoraInput(adapters, ids), want);
        assertFullyWritten(out);
        return RelativeError.l2(out, want);
    }
}
