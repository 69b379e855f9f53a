package io.moeoracle.core.select;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The selector's decisions, least recently used first out once more than {@code capacity} are kept
 * ({@code moe.selector.cacheSize}). Concurrent callers of one key wait for the one computation; a
 * thread asking for the key it is computing gets an error instead of waiting on itself. A failed
 * computation is not kept. Only the map access is locked; computations run outside the lock.
 *
 * @param <K> the key (spec, device)
 * @param <V> the decision
 */
final class DecisionCache<K, V> {
    /**
     * How to compute a missing decision. An interface rather than two lambdas: the selector hands one
     * object over on every call, with nothing to capture or spin up (a cold JVM's first select).
     *
     * @param <K> the key
     * @param <V> the decision
     */
    interface Computation<K, V> {
        /**
         * @param key the key
         * @return its decision
         */
        V compute(K key);

        /**
         * @param key the key the thread asked for while computing it
         * @return the error to throw
         */
        RuntimeException reentered(K key);
    }

    private final int capacity;
    private final Map<K, CompletableFuture<V>> entries;
    /** Keys this thread is computing now. */
    private final ThreadLocal<Set<K>> computing = new ThreadLocal<>() {
        @Override
        protected Set<K> initialValue() {
            return new HashSet<>();
        }
    };

    /** @param capacity the most decisions kept, at least 1 */
    DecisionCache(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("the decision cache needs room for at least 1 decision, not " + capacity);
        }
        this.capacity = capacity;
        this.entries = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<K, CompletableFuture<V>> eldest) {
                return size() > DecisionCache.this.capacity;
            }
        };
    }

    /**
     * @param key the decision's key
     * @param computation computes it (called at most once at a time per key), and makes the error for
     *     a thread that asks for the key it is computing
     * @return the decision
     */
    V get(K key, Computation<K, V> computation) {
        if (computing.get().contains(key)) {
            throw computation.reentered(key);
        }
        CompletableFuture<V> mine = null;
        CompletableFuture<V> f;
        synchronized (entries) {
            f = entries.get(key);
            if (f == null) {
                mine = new CompletableFuture<>();
                entries.put(key, mine);
                f = mine;
            }
        }
        if (mine != null) {
            computing.get().add(key);
            try {
                mine.complete(computation.compute(key));
            } catch (RuntimeException | Error e) {
                synchronized (entries) {
                    entries.remove(key, mine); // not kept: the next call tries again
                }
                mine.completeExceptionally(e);
                throw e;
            } finally {
                computing.get().remove(key);
            }
        }
        try {
            return f.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw e;
        }
    }

    /** @return how many decisions are kept now */
    int size() {
        synchronized (entries) {
            return entries.size();
        }
    }

    /** @return the most decisions kept */
    int capacity() {
        return capacity;
    }
}
