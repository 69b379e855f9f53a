package io.moeoracle.ep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.CapturedForward;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.error.KernelStateException;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.api.tensor.Tensor;
import io.moeoracle.driver.cuda.CudaTensor;
import io.moeoracle.driver.nccl.Nccl;
import io.moeoracle.driver.nccl.NcclTimeoutException;
import io.moeoracle.driver.nccl.NcclUniqueId;
import io.moeoracle.ep.EpTestLayers.RankData;
import io.moeoracle.ep.EpTestLayers.Scenario;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Failures end in exceptions on every rank, never in a hang, and a CUDA graph of the all-gather
 * forward replays correctly; on 2 GPUs, with the gpt-oss-20b layer (small, quick to prepare).
 * <ul>
 *   <li>one JVM driving both ranks: a bad input on rank 1 is refused before anything is queued; a
 *       top-k id out of range in a device tensor of rank 1 makes the forward throw when synchronized;
 *       the layer works afterwards;</li>
 *   <li>one rank per thread (as one per process): rank 1 refuses its input, takes part with no tokens,
 *       and both ranks throw; the next forward works; then rank 1 never calls, and rank 0 times out,
 *       aborts its communicator and throws within the deadline.</li>
 * </ul>
 */
@Tag("gpu")
class EpFailureGpuTest {
    private static final String MODEL = "gpt-oss-20b";
    private static final Duration SHORT = Duration.ofSeconds(8);

    @BeforeAll
    static void gpus() {
        EpGpuSupport.requireTwoGpus();
    }

    private static List<EpRankInput> inputs(List<RankData> data) {
        List<EpRankInput> in = new ArrayList<>();
        for (RankData d : data) {
            in.add(new EpRankInput(d.hidden(), d.routing(), d.out()));
        }
        return in;
    }

    private static double check(MoeLayerSpec spec, MoeWeights w, List<RankData> data, Arena arena) {
        List<EpChecks.Row> rows = EpChecks.sample(data, 2, new SplittableRandom(7));
        double[] expected = EpChecks.reference(spec, w, data, rows, arena);
        return EpChecks.l2(EpChecks.actual(data.stream().map(RankData::out).toList(), rows, spec.hiddenSize()), expected);
    }

    @Test
    void oneJvmRefusesABadInputBeforeQueueingAndFlagsABadDeviceId() {
        MoeLayerSpec spec = EpTestLayers.spec(MODEL);
        MoeWeights w = EpTestLayers.weights(MODEL);
        ExpertPlacement placement = ExpertPlacement.contiguous(spec.experts(), 2);
        try (Arena arena = Arena.ofShared();
             ExpertParallelMoe ep = ExpertParallelMoe.builder(spec).devices("cuda:0", "cuda:1").maxTokensPerRank(64)
                     .timeout(SHORT).build()) {
            ep.prepare(ExpertShards.ofFullLayer(w));
            List<RankData> data = EpTestLayers.inputs(spec, placement, 16, Scenario.RANDOM, DType.F32, 1, arena);
            List<EpRankInput> bad = inputs(data);
            HostTensor wrongWidth = HostTensor.allocate(arena, DType.F32, 16, spec.hiddenSize() / 2);
            bad.set(1, new EpRankInput(wrongWidth, bad.get(1).routing(), bad.get(1).out()));
            assertThatThrownBy(() -> ep.forward(bad)).isInstanceOf(BadInputException.class)
                    .hasMessageContaining("rank 1 (cuda:1)").hasMessageContaining("hidden");
            // top-k ids on the device are not checked on the host: the kernel flags the bad one
            List<RankData> topk = EpTestLayers.inputs(spec, placement, 16, Scenario.HOT_EXPERT, DType.F32, 2, arena);
            try (EpGpuSupport.OnDevice dev = new EpGpuSupport.OnDevice()) {
                List<EpRankInput> in = new ArrayList<>();
                for (int r = 0; r < 2; r++) {
                    Routing.TopK tk = (Routing.TopK) topk.get(r).routing();
                    if (r == 1) {
                        ((HostTensor) tk.ids()).data().setAtIndex(ValueLayout.JAVA_INT, 5, spec.experts() + 5);
                    }
                    Tensor h = dev.upload(r, topk.get(r).hidden());
                    in.add(new EpRankInput(h, dev.upload(r, tk), dev.upload(r, topk.get(r).out())));
                }
                for (EpStrategy s : new EpStrategy[] {EpStrategy.ALL_GATHER, EpStrategy.ALL_TO_ALL}) {
                    ep.forward(in, s);
                    assertThatThrownBy(ep::synchronize).as(s.name()).isInstanceOf(BadInputException.class)
                            .hasMessageContaining("rank 1 (cuda:1)").hasMessageContaining("top-k id outside");
                }
            }
            // the layer still works, and right
            ep.forward(inputs(data));
            assertThat(check(spec, w, data, arena)).isLessThanOrEqualTo(1e-2);
            assertThat(ep.isFailed()).isFalse();
        }
    }

    @Test
    void allGatherReplaysAsACudaGraph() {
        MoeLayerSpec spec = EpTestLayers.spec(MODEL);
        MoeWeights w = EpTestLayers.weights(MODEL);
        int ranks = Math.min(EpGpuSupport.gpus(), 4);
        ExpertPlacement placement = ExpertPlacement.contiguous(spec.experts(), ranks);
        try (Arena arena = Arena.ofShared();
             ExpertParallelMoe ep = ExpertParallelMoe.builder(spec).devices(EpGpuSupport.devices(ranks))
                     .maxTokensPerRank(64).strategy(EpStrategy.ALL_GATHER).timeout(SHORT).build();
             EpGpuSupport.OnDevice dev = new EpGpuSupport.OnDevice()) {
            ep.prepare(ExpertShards.ofFullLayer(w));
            List<RankData> first = EpTestLayers.inputs(spec, placement, 32, Scenario.RANDOM, DType.BF16, 3, arena);
            List<RankData> second = EpTestLayers.inputs(spec, placement, 32, Scenario.RANDOM, DType.BF16, 4, arena);
            List<EpRankInput> in = new ArrayList<>();
            List<CudaTensor[]> dt = new ArrayList<>();
            for (int r = 0; r < ranks; r++) {
                CudaTensor h = dev.upload(r, first.get(r).hidden());
                CudaTensor logits = dev.upload(r, (HostTensor) ((Routing.Logits) first.get(r).routing()).logits());
                CudaTensor o = dev.upload(r, first.get(r).out());
                dt.add(new CudaTensor[] {h, logits, o});
                in.add(new EpRankInput(h, Routing.logits(logits), o));
            }
            try (CapturedForward graph = ep.capture(in)) {
                for (List<RankData> data : List.of(first, second)) {
                    for (int r = 0; r < ranks; r++) {
                        dev.context(r);
                        dt.get(r)[0].copyFrom(data.get(r).hidden());
                        dt.get(r)[1].copyFrom((HostTensor) ((Routing.Logits) data.get(r).routing()).logits());
                    }
                    graph.replay();
                    EpReport report = ep.synchronize();
                    assertThat(report.timed()).isFalse();
                    for (int r = 0; r < ranks; r++) {
                        dev.download(r, dt.get(r)[2], data.get(r).out());
                    }
                    assertThat(EpChecks.nans(data.stream().map(RankData::out).toList())).isZero();
                    double err = check(spec, w, data, arena);
                    System.out.printf("CUDA graph replay on %d GPUs: relative L2 %.2e%n", ranks, err);
                    assertThat(err).isLessThanOrEqualTo(1e-2);
                }
            }
        }
    }

    @Test
    void oneRankPerThreadEndsInExceptionsOnEveryRankNotAHang() throws Exception {
        MoeLayerSpec spec = EpTestLayers.spec(MODEL);
        MoeWeights w = EpTestLayers.weights(MODEL);
        ExpertPlacement placement = ExpertPlacement.contiguous(spec.experts(), 2);
        NcclUniqueId id = Nccl.load().uniqueId();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        List<ExpertParallelMoe> eps = new ArrayList<>();
        try (Arena arena = Arena.ofShared()) {
            List<Future<ExpertParallelMoe>> built = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                int rank = r;
                built.add(pool.submit(() -> {
                    ExpertParallelMoe ep = ExpertParallelMoe.builder(spec).rank(rank, 2, "cuda:" + rank, id)
                            .maxTokensPerRank(64).timeout(SHORT).build();
                    ep.prepare(ExpertShards.ofFullLayer(w));
                    return ep;
                }));
            }
            for (Future<ExpertParallelMoe> f : built) {
                eps.add(f.get(120, TimeUnit.SECONDS));
            }
            for (EpStrategy s : new EpStrategy[] {EpStrategy.ALL_GATHER, EpStrategy.ALL_TO_ALL}) {
                // rank 1 refuses its input (wrong width): it takes part with no tokens, and both ranks throw
                List<RankData> data = EpTestLayers.inputs(spec, placement, 16, Scenario.RANDOM, DType.F32, 5, arena);
                HostTensor wrong = HostTensor.allocate(arena, DType.F32, 16, spec.hiddenSize() / 2);
                List<Future<?>> calls = new ArrayList<>();
                for (int r = 0; r < 2; r++) {
                    RankData d = data.get(r);
                    ExpertParallelMoe ep = eps.get(r);
                    Tensor hidden = r == 1 ? wrong : d.hidden();
                    calls.add(pool.submit((Callable<Void>) () -> {
                        ep.forward(List.of(new EpRankInput(hidden, d.routing(), d.out())), s);
                        ep.synchronize();
                        return null;
                    }));
                }
                for (int r = 0; r < 2; r++) {
                    Future<?> f = calls.get(r);
                    int rank = r;
                    assertThatThrownBy(() -> f.get(60, TimeUnit.SECONDS)).as(s + " rank " + rank)
                            .hasCauseInstanceOf(BadInputException.class)
                            .cause().hasMessageContaining(rank == 1 ? "hidden" : "refused its input");
                }
                // both ranks are fine afterwards
                List<Future<?>> good = new ArrayList<>();
                for (int r = 0; r < 2; r++) {
                    RankData d = data.get(r);
                    ExpertParallelMoe ep = eps.get(r);
                    good.add(pool.submit((Callable<Void>) () -> {
                        ep.forward(List.of(new EpRankInput(d.hidden(), d.routing(), d.out())), s);
                        return null;
                    }));
                }
                for (Future<?> f : good) {
                    f.get(60, TimeUnit.SECONDS);
                }
                double err = check(spec, w, data, arena);
                System.out.printf("one rank per thread, %s after a refused input: relative L2 %.2e%n", s, err);
                assertThat(err).isLessThanOrEqualTo(1e-2);
            }
            // rank 1 never calls: rank 0 times out, aborts, throws
            List<RankData> data = EpTestLayers.inputs(spec, placement, 16, Scenario.RANDOM, DType.F32, 6, arena);
            long t0 = System.nanoTime();
            Future<?> lonely = pool.submit((Callable<Void>) () -> {
                eps.get(0).forward(data.get(0).hidden(), data.get(0).routing(), data.get(0).out());
                return null;
            });
            assertThatThrownBy(() -> lonely.get(SHORT.toSeconds() * 4 + 60, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(NcclTimeoutException.class);
            double s = (System.nanoTime() - t0) / 1e9;
            System.out.printf("a rank whose peer never called threw after %.1f s (deadline %d s)%n", s, SHORT.toSeconds());
            assertThat(eps.get(0).isFailed()).isTrue();
            assertThatThrownBy(() -> eps.get(0).forward(data.get(0).hidden(), data.get(0).routing(), data.get(0).out()))
                    .isInstanceOf(KernelStateException.class).hasMessageContaining("aborted");
            eps.get(1).abort("rank 0 gave up");
        } finally {
            for (ExpertParallelMoe ep : eps) {
                ep.close();
            }
            pool.shutdownNow();
        }
    }
}
