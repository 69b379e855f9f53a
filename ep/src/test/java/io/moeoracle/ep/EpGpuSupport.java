package io.moeoracle.ep;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.tensor.DeviceTensor;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.api.tensor.Tensor;
import io.moeoracle.driver.cuda.CudaContext;
import io.moeoracle.driver.cuda.CudaDriver;
import io.moeoracle.driver.cuda.CudaTensor;
import io.moeoracle.driver.nccl.Nccl;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/**
 * What the expert-parallel GPU tests and the benchmark share: how many GPUs there are (tests need 2 and
 * skip with the reason on fewer), the rank counts to test ({@code EP_TEST_RANKS}, default 2 and 4 where
 * the machine has them), device tensors on a rank's GPU, and running ranks' inputs through a layer.
 */
final class EpGpuSupport {
    private EpGpuSupport() {
    }

    /** @return the number of CUDA devices, 0 without CUDA */
    static int gpus() {
        return CudaDriver.isAvailable() ? CudaDriver.load().deviceCount() : 0;
    }

    /** Skips the calling test class (printing why) when the machine has fewer than 2 GPUs; else requires NCCL. */
    static void requireTwoGpus() {
        int n = gpus();
        if (n < 2) {
            String why = "expert-parallel tests need at least 2 GPUs; this machine has " + n
                    + CudaDriver.unavailabilityCause().map(e -> " (" + e.getMessage() + ")").orElse("");
            System.out.println("SKIPPED: " + why);
            Assumptions.assumeTrue(false, why);
        }
        Nccl.load(); // with 2+ GPUs a missing NCCL fails, naming why
        ExpertParallelMoe.environmentWarnings().forEach(w -> System.out.println("WARNING: " + w));
    }

    /** @return the rank counts to test: {@code EP_TEST_RANKS} (e.g. {@code 4}), else 2 and 4 where present */
    static List<Integer> rankCounts() {
        String env = System.getenv("EP_TEST_RANKS");
        int n = gpus();
        List<Integer> out = new ArrayList<>();
        if (env != null && !env.isBlank()) {
            for (String s : env.split(",")) {
                int r = Integer.parseInt(s.strip());
                if (r <= n) {
                    out.add(r);
                }
            }
        } else {
            for (int r : new int[] {2, 4}) {
                if (r <= n) {
                    out.add(r);
                }
            }
        }
        return out;
    }

    /** @return {@code cuda:0 .. cuda:(ranks-1)} */
    static String[] devices(int ranks) {
        String[] d = new String[ranks];
        Arrays.setAll(d, i -> "cuda:" + i);
        return d;
    }

    /** Device copies of host inputs, on each rank's GPU; closed together. */
    static final class OnDevice implements AutoCloseable {
        private final List<CudaContext> contexts = new ArrayList<>();
        private final List<DeviceTensor> tensors = new ArrayList<>();

        CudaContext context(int ordinal) {
            while (contexts.size() <= ordinal) {
                contexts.add(CudaDriver.load().device(contexts.size()).retainPrimaryContext());
            }
            CudaContext c = contexts.get(ordinal);
            c.setCurrent();
            return c;
        }

        CudaTensor upload(int ordinal, HostTensor h) {
            CudaTensor t = CudaTensor.allocate(context(ordinal), h.dtype(), h.shape());
            tensors.add(t);
            if (h.numel() > 0) {
                t.copyFrom(h);
            }
            return t;
        }

        Routing upload(int ordinal, Routing r) {
            return switch (r) {
                case Routing.Logits l -> Routing.logits(upload(ordinal, (HostTensor) l.logits()));
                case Routing.TopK k -> Routing.topK(upload(ordinal, (HostTensor) k.ids()),
                        upload(ordinal, (HostTensor) k.weights()));
            };
        }

        void download(int ordinal, Tensor device, HostTensor host) {
            context(ordinal);
            if (host.numel() > 0) {
                ((CudaTensor) device).copyTo(host);
            }
        }

        @Override
        public void close() {
            for (DeviceTensor t : tensors) {
                ((CudaTensor) t).buffer().context().setCurrent();
                t.close();
            }
            for (CudaContext c : contexts) {
                c.close();
            }
        }
    }

    /** @return the DeviceInfo of each rank's GPU, through the CUDA driver */
    static List<DeviceInfo> deviceInfos(int ranks) {
        List<DeviceInfo> out = new ArrayList<>();
        for (int i = 0; i < ranks; i++) {
            out.add(CudaDriver.load().device(i).toDeviceInfo());
        }
        return out;
    }
}
