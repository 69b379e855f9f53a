package io.moeoracle.backend.flashinfer;

import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.driver.cuda.CudaContext;
import io.moeoracle.driver.cuda.CudaDriver;
import io.moeoracle.tck.MoeKernelCompatibilityKit;
import java.util.OptionalLong;
import org.junit.jupiter.api.Tag;

/** {@code flashinfer-bf16} passes the conformance kit on CUDA device 0 (an sm_90 GPU machine: gpu/run-tests). */
@Tag("gpu")
class FlashinferBf16CompatibilityTest extends MoeKernelCompatibilityKit {
    @Override
    protected MoeKernelProvider provider() {
        return new FlashinferBf16Provider();
    }

    @Override
    protected DeviceInfo device() {
        return CudaDriver.load().device(0).toDeviceInfo();
    }

    /** Device 0's memory in use (total minus free), through a primary-context retain the test holds. */
    @Override
    protected OptionalLong deviceMemoryInUse() {
        CudaContext.MemoryInfo m = Gauge.CONTEXT.memoryInfo();
        return OptionalLong.of(m.totalBytes() - m.freeBytes());
    }

    /** Held for the JVM's life, so that closing the last kernel does not tear the context down between measurements. */
    private static final class Gauge {
        static final CudaContext CONTEXT = CudaDriver.load().device(0).retainPrimaryContext();
    }

    /** BF16 activations on tensor cores with FP32 accumulation plus the output's rounding: FlashinferGpuCases' bound. */
    @Override
    protected double tolerance(QuantScheme scheme) {
        return 1e-2;
    }
}
