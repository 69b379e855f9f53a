package io.moeoracle.driver.nccl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.driver.cuda.CudaContext;
import io.moeoracle.driver.cuda.CudaDriver;
import io.moeoracle.driver.cuda.CudaStream;
import io.moeoracle.driver.cuda.DeviceBuffer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * NCCL on every GPU of the machine (at least 2; skipped with the reason on fewer), one JVM driving them
 * all: all-reduce, all-gather, reduce-scatter and a send/receive ring against values computed on the
 * host, and a rank that never joins a collective ending in a timeout and an abort instead of a hang.
 * Start the JVM with NCCL_NVLS_ENABLE=0 (ep/gpu-run.sh does).
 */
@Tag("gpu")
class NcclGpuTest {
    private static final Logger LOG = LoggerFactory.getLogger(NcclGpuTest.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final List<CudaContext> contexts = new ArrayList<>();
    private static final List<CudaStream> streams = new ArrayList<>();
    private static List<NcclCommunicator> comms = List.of();

    @BeforeAll
    static void open() {
        int n = CudaDriver.isAvailable() ? CudaDriver.load().deviceCount() : 0;
        if (n < 2) {
            String why = "NCCL tests need at least 2 GPUs; this machine has " + n
                    + CudaDriver.unavailabilityCause().map(e -> " (" + e.getMessage() + ")").orElse("");
            System.out.println("SKIPPED: " + why);
            Assumptions.assumeTrue(false, why);
        }
        Nccl nccl = Nccl.load(); // on a multi-GPU machine a missing NCCL is a failure, with the verdict
        Nccl.nvlsWarning().ifPresent(w -> LOG.warn("{}", w));
        LOG.info("{} on {} GPUs", nccl, n);
        for (int i = 0; i < n; i++) {
            CudaContext c = CudaDriver.load().device(i).retainPrimaryContext();
            contexts.add(c);
            streams.add(c.createStream());
        }
        comms = NcclCommunicator.initAll(contexts, TIMEOUT);
    }

    @AfterAll
    static void close() {
        NcclCommunicator.closeAll(comms);
        for (int i = 0; i < streams.size(); i++) {
            contexts.get(i).setCurrent();
            streams.get(i).close();
            contexts.get(i).close();
        }
    }

    private static DeviceBuffer upload(int rank, float[] values) {
        CudaContext c = contexts.get(rank);
        c.setCurrent();
        DeviceBuffer b = c.allocate(4L * values.length);
        b.copyFromHost(MemorySegment.ofArray(values));
        return b;
    }

    private static float[] download(int rank, DeviceBuffer b) {
        contexts.get(rank).setCurrent();
        return b.toFloatArray();
    }

    private static void syncAll() {
        for (int r = 0; r < contexts.size(); r++) {
            contexts.get(r).setCurrent();
            streams.get(r).synchronize();
        }
    }

    @Test
    void ranksReportWhatTheyAre() {
        for (NcclCommunicator c : comms) {
            assertThat(c.size()).isEqualTo(contexts.size());
            assertThat(c.state()).isEqualTo(NcclException.SUCCESS);
        }
        assertThat(comms).extracting(NcclCommunicator::rank).containsExactlyElementsOf(
                java.util.stream.IntStream.range(0, contexts.size()).boxed().toList());
    }

    @Test
    void allReduceAllGatherReduceScatterAndARing() {
        int n = comms.size();
        int count = 1000 * n;
        List<DeviceBuffer> in = new ArrayList<>();
        List<DeviceBuffer> out = new ArrayList<>();
        List<DeviceBuffer> gathered = new ArrayList<>();
        List<DeviceBuffer> scattered = new ArrayList<>();
        List<DeviceBuffer> ring = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            float[] v = new float[count];
            for (int i = 0; i < count; i++) {
                v[i] = r * 1000 + i * 0.5f;
            }
            in.add(upload(r, v));
            out.add(upload(r, new float[count]));
            gathered.add(upload(r, new float[count * n]));
            scattered.add(upload(r, new float[count / n]));
            ring.add(upload(r, new float[count]));
        }
        Nccl nccl = Nccl.load();
        boolean pending = nccl.group(() -> {
            for (int r = 0; r < n; r++) {
                comms.get(r).allReduce(in.get(r).address(), out.get(r).address(), count, NcclDataType.FLOAT32,
                        NcclRedOp.SUM, streams.get(r));
                comms.get(r).allGather(in.get(r).address(), gathered.get(r).address(), count, NcclDataType.FLOAT32,
                        streams.get(r));
                comms.get(r).reduceScatter(in.get(r).address(), scattered.get(r).address(), count / n,
                        NcclDataType.FLOAT32, NcclRedOp.MAX, streams.get(r));
            }
        });
        if (pending) {
            NcclCommunicator.awaitAll(comms, TIMEOUT, "ncclGroupEnd", "collectives", "");
        }
        pending = nccl.group(() -> {
            for (int r = 0; r < n; r++) {
                comms.get(r).send(in.get(r).address(), count, NcclDataType.FLOAT32, (r + 1) % n, streams.get(r));
                comms.get(r).recv(ring.get(r).address(), count, NcclDataType.FLOAT32, (r + n - 1) % n, streams.get(r));
            }
        });
        if (pending) {
            NcclCommunicator.awaitAll(comms, TIMEOUT, "ncclGroupEnd", "send/recv ring", "");
        }
        syncAll();
        for (int r = 0; r < n; r++) {
            float[] sum = download(r, out.get(r));
            float[] all = download(r, gathered.get(r));
            float[] max = download(r, scattered.get(r));
            float[] prev = download(r, ring.get(r));
            int from = (r + n - 1) % n;
            for (int i = 0; i < count; i++) {
                double expected = 0;
                for (int q = 0; q < n; q++) {
                    expected += q * 1000 + i * 0.5f;
                }
                assertThat((double) sum[i]).as("all-reduce rank %d element %d", r, i).isCloseTo(expected,
                        org.assertj.core.data.Offset.offset(1e-3 * Math.abs(expected) + 1e-3));
                assertThat(prev[i]).as("ring rank %d element %d", r, i).isEqualTo(from * 1000 + i * 0.5f);
            }
            for (int q = 0; q < n; q++) {
                for (int i = 0; i < count; i++) {
                    assertThat(all[q * count + i]).isEqualTo(q * 1000 + i * 0.5f);
                }
            }
            for (int i = 0; i < count / n; i++) {
                int element = r * (count / n) + i;
                assertThat(max[i]).as("reduce-scatter max").isEqualTo((n - 1) * 1000 + element * 0.5f);
            }
        }
        for (List<DeviceBuffer> l : List.of(in, out, gathered, scattered, ring)) {
            for (int r = 0; r < n; r++) {
                contexts.get(r).setCurrent();
                l.get(r).close();
            }
        }
    }

    @Test
    void aRankThatNeverJoinsEndsInATimeoutAndAnAbortNotAHang() {
        // a separate two-rank communicator on GPUs 0 and 1; only rank 0 queues its part of an all-reduce
        List<NcclCommunicator> pair = NcclCommunicator.initAll(contexts.subList(0, 2), TIMEOUT);
        CudaContext c0 = contexts.get(0);
        c0.setCurrent();
        try (CudaStream s0 = c0.createStream(); DeviceBuffer b = c0.allocate(4096)) {
            boolean pending = Nccl.load().group(() -> pair.get(0).allReduce(b.address(), b.address(), 1024,
                    NcclDataType.FLOAT32, NcclRedOp.SUM, s0));
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> {
                if (pending) {
                    NcclCommunicator.awaitAll(pair.subList(0, 1), Duration.ofSeconds(3), "ncclGroupEnd", "lonely", "");
                }
                long deadline = System.nanoTime() + Duration.ofSeconds(3).toNanos();
                while (!s0.isIdle()) {
                    if (System.nanoTime() > deadline) {
                        NcclCommunicator.abortAll(pair);
                        throw new NcclTimeoutException("ncclAllReduce", "rank 0 alone", Duration.ofSeconds(3), "");
                    }
                    Thread.sleep(1);
                }
            }).isInstanceOf(NcclTimeoutException.class);
            // after the abort the stream drains: NCCL's kernel quit
            long drain = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!s0.isIdle() && System.nanoTime() < drain) {
                Thread.onSpinWait();
            }
            assertThat(s0.isIdle()).as("the stream drained after ncclCommAbort").isTrue();
            assertThat(pair.get(0).isAborted()).isTrue();
            LOG.info("lonely all-reduce aborted after {} ms", (System.nanoTime() - t0) / 1_000_000);
        } finally {
            NcclCommunicator.abortAll(pair);
        }
    }
}
