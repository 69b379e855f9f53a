package io.moeoracle.backend.cpu;

import static io.moeoracle.backend.cpu.CpuTestSupport.HOST;
import static io.moeoracle.backend.cpu.CpuTestSupport.PROVIDER;
import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.backend.cpu.ffi.MoeCpuNative;
import io.moeoracle.reference.RandomMoe;
import io.moeoracle.reference.ReferenceMoe;
import io.moeoracle.reference.RelativeError;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Several cpu kernels in one JVM share one native worker pool and still compute their own layers. */
class CpuSharedPoolTest {
    private static final long SEED = System.nanoTime();
    private static final int KERNELS = 4;
    private static final int FORWARDS = 40;

    /** One kernel with its own layer, input and expected output. */
    private record Case(MoeKernel kernel, MoeLayerSpec spec, MoeWeights w, HostTensor hidden, Routing routing,
                        HostTensor serial) {
    }

    @Test
    void kernelsShareOnePoolAndConcurrentForwardsMatchTheReference() throws Exception {
        MoeCpuNative nat = MoeCpuNative.get();
        int before = nat.sharedPools();
        List<Case> cases = new ArrayList<>();
        try (Arena arena = Arena.ofShared()) {
            for (int k = 0; k < KERNELS; k++) {
                // different shapes and formats, so a mixed-up workspace or job would show
                MoeLayerSpec spec = MoeLayerSpec.builder().experts(4 + 2 * k).topK(2).hiddenSize(64 + 32 * k)
                        .intermediateSize(32 + 32 * (k % 2)).quant(k % 2 == 0 ? QuantScheme.MXFP4_BF16 : QuantScheme.BF16)
                        .hasBias(k % 2 == 0).build();
                MoeWeights w = RandomMoe.weights(spec, SEED + k, arena);
                HostTensor hidden = RandomMoe.hidden(3 + k, spec.hiddenSize(), DType.F32, SEED + 10 + k, arena);
                Routing routing = Routing.logits(RandomMoe.routerLogits(3 + k, spec.experts(), SEED + 20 + k, arena));
                MoeKernel kernel = PROVIDER.create(spec, HOST);
                kernel.prepare(w);
                HostTensor serial = HostTensor.allocate(arena, DType.F32, 3 + k, spec.hiddenSize());
                kernel.forward(hidden, routing, serial);
                cases.add(new Case(kernel, spec, w, hidden, routing, serial));
            }
            assertThat(nat.sharedPools()).as("pools with %d kernels open (%d before)", KERNELS, before)
                    .isBetween(1, before + 1);
            for (Case c : cases) {
                assertThat(((CpuMoeKernel) c.kernel()).workerThreads())
                        .isEqualTo(new CpuMoeProvider().options().threadCount());
                HostTensor ref = HostTensor.allocate(arena, DType.F32, c.hidden().dim(0), c.spec().hiddenSize());
                ReferenceMoe.forward(c.spec(), c.w(), c.hidden(), c.routing(), ref);
                assertThat(RelativeError.l2(c.serial(), ref)).as("seed %d", SEED).isLessThanOrEqualTo(1e-2);
            }

            ExecutorService pool = Executors.newFixedThreadPool(KERNELS);
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Integer>> mismatches = new ArrayList<>();
            for (Case c : cases) {
                mismatches.add(pool.submit(() -> {
                    HostTensor out = HostTensor.allocate(arena, DType.F32, c.hidden().dim(0), c.spec().hiddenSize());
                    start.await();
                    int bad = 0;
                    for (int i = 0; i < FORWARDS; i++) {
                        c.kernel().forward(c.hidden(), c.routing(), out);
                        // the kernels are deterministic: concurrent runs give the serial run's bits
                        bad += out.data().mismatch(c.serial().data()) == -1 ? 0 : 1;
                    }
                    return bad;
                }));
            }
            start.countDown();
            for (Future<Integer> f : mismatches) {
                assertThat(f.get(120, TimeUnit.SECONDS)).as("forwards differing from the serial result, seed %d", SEED)
                        .isZero();
            }
            pool.shutdown();
        } finally {
            cases.forEach(c -> c.kernel().close());
        }
        assertThat(nat.sharedPools()).as("pools after closing every kernel").isEqualTo(before);
    }
}
