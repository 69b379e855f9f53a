package io.moeoracle.backend.flashinfer;

import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.driver.cuda.CudaContext;
import io.moeoracle.driver.cuda.CudaDriver;
import io.moeoracle.tck.MoeKernelCompatibilityKit;
import java.util.OptionalLong;
import org.junit.jupiter.api.Tag;

/** {@code flashinfer-mxfp8} passes the conformance kit on CUDA device 0 (sm_89+: gpu/run-tests); the kit compares with the MXFP8 reference. */
@Tag("gpu")
class FlashinferMxfp8CompatibilityTest extends MoeKernelCompatibilityKit {
    @Override
    protected MoeKernelProvider provider() {
        return new FlashinferMxfp8Provider();
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

    /** Against the reference with MXFP8 quantize-dequantize of both GEMM inputs: FlashinferGpuCases' bound. */
    @Override
    protected double tolerance(QuantScheme scheme) {
        return 1e-2;
    }
}
