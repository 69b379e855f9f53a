package io.moeoracle.tck;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.error.KernelStateException;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.reference.RelativeError;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/** The concurrency group's machinery: threads released at once, and the race of forwards against close. */
final class KitThreads {
    private KitThreads() {
    }

    /**
     * Runs {@code body(i)} on {@code threads} threads released together; the first failure is rethrown
     * (an {@link AssertionError} as it is, anything else wrapped in one).
     */
    static void onThreads(int threads, IntConsumer body) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                final int id = i;
                done.add(pool.submit(() -> {
                    start.await();
                    body.accept(id);
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                try {
                    f.get(5, TimeUnit.MINUTES);
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof AssertionError a) {
                        throw a;
                    }
                    throw new AssertionError("a thread failed: " + e.getCause(), e.getCause());
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Thread {@code i} forwards {@code inputs[i]} on the one kernel {@code k} 20 times while the others
     * do the same; each result must stay within {@link KitExpected#allowed()} of {@code expected[i]}.
     *
     * @param what the layer and seed, for the messages
     */
    static void sameResultsOnThreads(int threads, MoeKernel k, List<KitForward.Call> inputs, List<KitExpected> expected,
                                     String what) throws Exception {
        onThreads(threads, i -> {
            for (int rep = 0; rep < 20; rep++) {
                HostTensor out;
                try (Arena local = Arena.ofConfined()) {
                    try {
                        out = KitForward.run(k, inputs.get(i), local);
                    } catch (RuntimeException e) {
                        throw new AssertionError("a forward on one kernel from " + threads + " threads threw " + e
                                + "; MoeKernel's contract: concurrent forwards each give the result they would give"
                                + " alone (serialize them inside if need be)", e);
                    }
                    double err = RelativeError.l2(out, expected.get(i).output());
                    double allowed = expected.get(i).allowed();
                    if (!(err <= allowed)) {
                        throw new AssertionError("thread " + i + ", forward " + rep + " under concurrency: relative "
                                + "error " + err + " exceeds " + allowed + " on " + what
                                + ": calls on one kernel interfere (MoeKernel's thread-safety contract)");
                    }
                }
            }
        });
    }

    /**
     * {@code threads} threads forward {@code in} on the prepared, warmed kernel {@code k} while another
     * thread closes it: each forward completes or ends in {@link KernelStateException}, at least one
     * sees the close, a second close is harmless and a forward after it is a {@link KernelStateException}.
     */
    static void closeWhileForwarding(int threads, MoeKernel k, KitForward.Call in) throws Exception {
        AtomicInteger closedSeen = new AtomicInteger();
        AtomicInteger forwards = new AtomicInteger();
        Thread closer = Thread.ofPlatform().name("kit-closer").start(() -> {
            long until = System.nanoTime() + 2_000_000_000L;
            while (forwards.get() < 2 * threads && System.nanoTime() < until) {
                Thread.onSpinWait();
            }
            k.close();
        });
        onThreads(threads, i -> {
            try {
                for (int rep = 0; rep < 100_000; rep++) {
                    try (Arena local = Arena.ofConfined()) {
                        KitForward.run(k, in, local);
                    }
                    forwards.incrementAndGet();
                }
            } catch (KernelStateException e) {
                closedSeen.incrementAndGet();
            } catch (RuntimeException e) {
                throw new AssertionError("a forward racing close() threw " + e + "; MoeKernel's contract: a forward"
                        + " either completes or ends in KernelStateException once the kernel is closed", e);
            }
        });
        closer.join();
        assertTrue(closedSeen.get() > 0, "no forward saw the close (" + forwards.get() + " forwards finished)");
        k.close(); // idempotent
        try (Arena local = Arena.ofConfined()) {
            KitForward.run(k, in, local);
            throw new AssertionError("a forward after close() returned normally");
        } catch (KernelStateException expected) {
            // the contract
        }
    }
}
