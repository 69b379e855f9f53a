package io.moeoracle.backend.cpu;

import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.reference.RandomMoe;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * Not a test: times {@code threads} host threads running {@code total} small forwards in all,
 * first each thread on its own cpu kernel, then all sharing one kernel. Before the pool was shared
 * the first case was 10-17x slower (every kernel started workers for every core). Arguments:
 * {@code [threads] [total forwards]}, default 8 and 4000.
 */
public final class CpuSharedPoolTiming {
    private CpuSharedPoolTiming() {
    }

    /**
     * @param args optional thread count and total forwards
     * @throws Exception when a thread fails
     */
    public static void main(String[] args) throws Exception {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 8;
        int total = args.length > 1 ? Integer.parseInt(args[1]) : 4000;
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(8).topK(2).hiddenSize(128).intermediateSize(128)
                .quant(QuantScheme.MXFP4_BF16).build();
        try (Arena arena = Arena.ofShared()) {
            MoeWeights w = RandomMoe.weights(spec, 1, arena);
            HostTensor hidden = RandomMoe.hidden(4, 128, DType.F32, 2, arena);
            Routing routing = Routing.logits(RandomMoe.routerLogits(4, 8, 3, arena));
            for (int round = 0; round < 2; round++) {
                System.out.printf("round %d: %d threads, %d forwards: own kernel each %.2f s, one shared kernel %.2f s%n",
                        round, threads, total, run(spec, w, hidden, routing, threads, total, false, arena),
                        run(spec, w, hidden, routing, threads, total, true, arena));
            }
        }
    }

    private static double run(MoeLayerSpec spec, MoeWeights w, HostTensor hidden, Routing routing, int threads, int total,
                              boolean shared, Arena arena) throws Exception {
        List<MoeKernel> kernels = new ArrayList<>();
        for (int i = 0; i < (shared ? 1 : threads); i++) {
            MoeKernel k = CpuTestSupport.PROVIDER.create(spec, CpuTestSupport.HOST);
            k.prepare(w);
            kernels.add(k);
        }
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> ts = new ArrayList<>();
        Throwable[] failure = new Throwable[1];
        for (int t = 0; t < threads; t++) {
            MoeKernel k = kernels.get(shared ? 0 : t);
            HostTensor out = HostTensor.allocate(arena, DType.F32, 4, 128);
            Thread th = Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                    for (int i = 0; i < total / threads; i++) {
                        k.forward(hidden, routing, out);
                    }
                } catch (Throwable e) {
                    failure[0] = e;
                }
            });
            ts.add(th);
        }
        long t0 = System.nanoTime();
        start.countDown();
        for (Thread th : ts) {
            th.join();
        }
        double s = (System.nanoTime() - t0) / 1e9;
        kernels.forEach(MoeKernel::close);
        if (failure[0] != null) {
            throw new IllegalStateException("a forward failed", failure[0]);
        }
        return s;
    }
}
