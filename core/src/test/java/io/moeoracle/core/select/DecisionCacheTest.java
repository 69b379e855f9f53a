package io.moeoracle.core.select;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class DecisionCacheTest {
    private static final java.util.function.Supplier<RuntimeException> REENTERED = () -> new IllegalStateException("re");

    /** The cache's computation from a function and the reentry error. */
    private static <K, V> DecisionCache.Computation<K, V> of(java.util.function.Function<K, V> f,
                                                          java.util.function.Supplier<RuntimeException> reentered) {
        return new DecisionCache.Computation<>() {
            @Override
            public V compute(K key) {
                return f.apply(key);
            }

            @Override
            public RuntimeException reentered(K key) {
                return reentered.get();
            }
        };
    }

    @Test
    void keepsAtMostItsCapacityAndDropsTheLeastRecentlyUsed() {
        DecisionCache<Integer, String> cache = new DecisionCache<>(3);
        AtomicInteger computed = new AtomicInteger();
        for (int i = 0; i < 100_000; i++) {
            cache.get(i, of(k -> "d" + k + "#" + computed.incrementAndGet(), REENTERED));
            assertThat(cache.size()).isLessThanOrEqualTo(3);
        }
        assertThat(computed).hasValue(100_000);
        // 99_997..99_999 are kept; touching 99_997 makes 99_998 the eldest
        assertThat(cache.get(99_997, of(k -> "again", REENTERED))).startsWith("d99997#");
        cache.get(7, of(k -> "seven", REENTERED));
        assertThat(cache.get(99_997, of(k -> "again", REENTERED))).startsWith("d99997#");
        assertThat(cache.get(99_998, of(k -> "recomputed", REENTERED))).isEqualTo("recomputed");
    }

    @Test
    void aFailureIsNotKeptAndAReentryIsAnError() {
        DecisionCache<String, String> cache = new DecisionCache<>(8);
        assertThatThrownBy(() -> cache.get("k", of(k -> {
            throw new IllegalArgumentException("boom");
        }, REENTERED))).hasMessage("boom");
        assertThat(cache.size()).isZero();
        assertThat(cache.get("k", of(k -> "fine", REENTERED))).isEqualTo("fine");
        assertThatThrownBy(() -> cache.get("self", of(k -> cache.get("self", of(j -> "never", REENTERED)), REENTERED)))
                .hasMessage("re");
        assertThatThrownBy(() -> new DecisionCache<String, String>(0)).hasMessageContaining("at least 1");
    }

    @Test
    void concurrentCallersOfOneKeyShareOneComputation() throws Exception {
        DecisionCache<String, String> cache = new DecisionCache<>(8);
        AtomicInteger computed = new AtomicInteger();
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<String>> results = new ArrayList<>();
            results.add(pool.submit(() -> cache.get("k", of(k -> {
                computed.incrementAndGet();
                inside.countDown();
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return "v";
            }, REENTERED))));
            assertThat(inside.await(10, TimeUnit.SECONDS)).isTrue();
            for (int i = 0; i < 7; i++) {
                results.add(pool.submit(() -> cache.get("k", of(k -> "other" + computed.incrementAndGet(), REENTERED))));
            }
            release.countDown();
            for (Future<String> r : results) {
                assertThat(r.get(10, TimeUnit.SECONDS)).isEqualTo("v");
            }
            assertThat(computed).hasValue(1);
        } finally {
            pool.shutdownNow();
        }
    }
}
