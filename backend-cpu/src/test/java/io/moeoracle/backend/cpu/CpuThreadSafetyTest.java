package io.moeoracle.backend.cpu;

import static io.moeoracle.backend.cpu.CpuTestSupport.HOST;
import static io.moeoracle.backend.cpu.CpuTestSupport.PROVIDER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.SimulatedDeviceCatalogue;
import io.moeoracle.api.error.KernelStateException;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.reference.RandomMoe;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The thread-safety contract of MoeKernelProvider and MoeKernel (api Javadoc), held by cpu under 8 threads. */
class CpuThreadSafetyTest {
    private static final int THREADS = 8;
    private static final long SEED = System.nanoTime();
    private static final MoeLayerSpec SPEC = MoeLayerSpec.builder().experts(8).topK(2).hiddenSize(128)
            .intermediateSize(64).quant(QuantScheme.MXFP4_BF16).build();

    private static <T> List<T> onThreads(Callable<T> task) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<T>> futures = new ArrayList<>();
            for (int i = 0; i < THREADS; i++) {
                futures.add(pool.submit(() -> {
                    start.await();
                    return task.call();
                }));
            }
            start.countDown();
            List<T> out = new ArrayList<>();
            for (Future<T> f : futures) {
                out.add(f.get(2, TimeUnit.MINUTES));
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void eightThreadsForwardingOnOneKernelEachGetTheSerialResult() throws Exception {
        try (Arena arena = Arena.ofShared(); MoeKernel kernel = PROVIDER.create(SPEC, HOST)) {
            kernel.prepare(RandomMoe.weights(SPEC, SEED, arena));
            HostTensor hidden = RandomMoe.hidden(5, SPEC.hiddenSize(), DType.F32, SEED + 1, arena);
            Routing routing = Routing.logits(RandomMoe.routerLogits(5, SPEC.experts(), SEED + 2, arena));
            HostTensor serial = HostTensor.allocate(arena, DType.F32, 5, SPEC.hiddenSize());
            kernel.forward(hidden, routing, serial);
            List<Boolean> same = onThreads(() -> {
                try (Arena mine = Arena.ofConfined()) {
                    HostTensor out = HostTensor.allocate(mine, DType.F32, 5, SPEC.hiddenSize());
                    boolean all = true;
                    for (int i = 0; i < 20; i++) {
                        kernel.forward(hidden, routing, out);
                        all &= out.data().mismatch(serial.data()) == -1;
                    }
                    return all;
                }
            });
            assertThat(same).as("seed %d", SEED).containsOnly(true);
        }
    }

    @Test
    void closingWhileOtherThreadsForwardEndsThemWithAKernelStateExceptionOrNormally() throws Exception {
        try (Arena arena = Arena.ofShared()) {
            MoeKernel kernel = PROVIDER.create(SPEC, HOST);
            kernel.prepare(RandomMoe.weights(SPEC, SEED, arena));
            HostTensor hidden = RandomMoe.hidden(5, SPEC.hiddenSize(), DType.F32, SEED + 1, arena);
            Routing routing = Routing.logits(RandomMoe.routerLogits(5, SPEC.experts(), SEED + 2, arena));
            Thread closer = Thread.ofPlatform().start(() -> {
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                kernel.close();
            });
            List<String> endings = onThreads(() -> {
                try (Arena mine = Arena.ofConfined()) {
                    HostTensor out = HostTensor.allocate(mine, DType.F32, 5, SPEC.hiddenSize());
                    for (int i = 0; i < 100_000; i++) {
                        kernel.forward(hidden, routing, out);
                    }
                    return "finished";
                } catch (KernelStateException e) {
                    return "closed";
                }
            });
            closer.join();
            assertThat(endings).isSubsetOf("finished", "closed").contains("closed");
            kernel.close(); // idempotent
            assertThatThrownBy(() -> kernel.forward(hidden, routing, HostTensor.allocate(arena, DType.F32, 5, 128)))
                    .isInstanceOf(KernelStateException.class);
        }
    }

    @Test
    void theProviderGivesEveryThreadTheSameAnswersAndItsOwnKernel() throws Exception {
        List<DeviceInfo> devices = new ArrayList<>(SimulatedDeviceCatalogue.builtIn().devices());
        devices.add(HOST);
        List<MoeLayerSpec> specs = List.of(SPEC, SPEC.toBuilder().quant(QuantScheme.BF16).build(),
                SPEC.toBuilder().quant(QuantScheme.MXFP4_MXFP8).build());
        List<String> serial = answers(specs, devices);
        assertThat(onThreads(() -> answers(specs, devices))).containsOnly(serial);
        List<MoeKernel> kernels = onThreads(() -> PROVIDER.create(SPEC, HOST));
        try {
            assertThat(kernels).doesNotHaveDuplicates().hasSize(THREADS);
        } finally {
            kernels.forEach(MoeKernel::close);
        }
    }

    private static List<String> answers(List<MoeLayerSpec> specs, List<DeviceInfo> devices) {
        List<String> out = new ArrayList<>();
        for (MoeLayerSpec s : specs) {
            for (DeviceInfo d : devices) {
                SupportVerdict v = PROVIDER.isSupported(s, d);
                out.add(d.id() + " " + PROVIDER.priority(s, d) + " " + v);
            }
        }
        return out;
    }
}
