package io.moeoracle.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.core.device.SimulatedDevices;
import io.moeoracle.core.select.MoeKernelSelector;
import io.moeoracle.core.select.Selection;
import io.moeoracle.core.weights.ModelConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.RepeatedTest;

/** Eight threads asking at once get one consistent answer. */
class ConcurrentSelectionIT {

    @RepeatedTest(5)
    @DisplayName("select from 8 threads at once gives one consistent answer")
    void eightThreads() throws Exception {
        MoeKernelSelector selector = MoeKernelSelector.create();
        MoeLayerSpec spec = ModelConfig.preset("gpt-oss-20b");
        DeviceInfo device = SimulatedDevices.get("sim:cpu-avx512");
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Selection>> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
            for (int i = 0; i < 8; i++) {
                results.add(pool.submit(() -> {
                    start.await();
                    return selector.select(spec, device);
                }));
            }
            start.countDown();
            Selection first = results.get(0).get();
            for (Future<Selection> f : results) {
                Selection s = f.get();
                assertThat(s.winner().id()).isEqualTo(first.winner().id());
                assertThat(s.explanation().toJson()).isEqualTo(first.explanation().toJson());
            }
        }
    }
}
