package io.moeoracle.backend.xpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.error.KernelStateException;
import io.moeoracle.api.error.UnsupportedSpecException;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.DeviceTensor;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.driver.opencl.ProgramBuildException;
import io.moeoracle.reference.RandomMoe;
import io.moeoracle.reference.RelativeError;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.Optional;
import java.util.Random;
import java.util.ServiceLoader;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Discovery, build failures, input checks and device tensors, on the host's OpenCL device. */
class XpuKernelLifecycleTest {
    private static final Logger LOG = LoggerFactory.getLogger(XpuKernelLifecycleTest.class);
    private static final XpuKernelProvider PROVIDER = new XpuKernelProvider();
    private static final MoeLayerSpec SPEC = MoeLayerSpec.builder().experts(6).topK(2).hiddenSize(64)
            .intermediateSize(96).quant(QuantScheme.MXFP4_BF16).maxTokensPerCall(16).build();
    private static DeviceInfo device;
    private static long seed;

    @BeforeAll
    static void setUp() {
        seed = new Random().nextLong();
        LOG.info("XpuKernelLifecycleTest seed {}", seed);
    }

    @BeforeEach // per test, so that a skip without OpenCL is counted for each (surefire does not count a skipped class)
    void pickDevice() {
        device = XpuTestSupport.device(false);
    }

    @Test
    void providerIsFoundByServiceLoaderAndAvailableHere() {
        Optional<MoeKernelProvider> p = ServiceLoader.load(MoeKernelProvider.class).stream()
                .map(ServiceLoader.Provider::get).filter(x -> x.id().equals("xpu")).findFirst();
        assertThat(p).isPresent();
        assertThat(p.get().hostAvailability().available()).as(p.get().hostAvailability().toString()).isTrue();
        assertThat(p.get().isSupported(SPEC, device).isSupported()).isTrue();
    }

    @Test
    void aKernelThatFailsToBuildThrowsWithTheBuildLog() {
        String broken = XpuPrograms.source().replace("inline float fp4_value(uint v) {",
                "inline float fp4_value(uint v) { this_does_not_compile_xpu;");
        assertThatThrownBy(() -> PROVIDER.create(SPEC, device, broken, "portable"))
                .isInstanceOfSatisfying(ProgramBuildException.class, e -> {
                    assertThat(e.buildLog()).contains("this_does_not_compile_xpu");
                    assertThat(e.getMessage()).contains("clBuildProgram").contains("CL_BUILD_PROGRAM_FAILURE")
                            .contains("-DXPU_PATH=0");
                });
    }

    @Test
    void badInputRaisesBeforeAnyNativeCall() {
        try (Arena arena = Arena.ofConfined()) {
            XpuMoeKernel k = PROVIDER.create(SPEC, device, XpuPrograms.source(), "auto");
            HostTensor hidden = RandomMoe.hidden(4, 64, DType.F32, seed, arena);
            HostTensor out = HostTensor.allocate(arena, DType.F32, 4, 64);
            Routing logits = Routing.logits(RandomMoe.routerLogits(4, 6, seed + 1, arena));
            assertThatThrownBy(() -> k.forward(hidden, logits, out)).isInstanceOf(KernelStateException.class)
                    .hasMessageContaining("prepare");
            MoeWeights wrong = RandomMoe.weights(SPEC.toBuilder().intermediateSize(64).build(), seed, arena);
            assertThatThrownBy(() -> k.prepare(wrong)).isInstanceOf(BadInputException.class)
                    .hasMessageContaining("w13");
            k.prepare(RandomMoe.weights(SPEC, seed, arena));
            HostTensor badHidden = HostTensor.allocate(arena, DType.F32, 4, 32);
            assertThatThrownBy(() -> k.forward(badHidden, logits, out)).isInstanceOf(BadInputException.class)
                    .hasMessageContaining("hidden");
            HostTensor tooMany = HostTensor.allocate(arena, DType.F32, 17, 64);
            assertThatThrownBy(() -> k.forward(tooMany, Routing.logits(HostTensor.allocate(arena, DType.F32, 17, 6)),
                    HostTensor.allocate(arena, DType.F32, 17, 64))).isInstanceOf(BadInputException.class)
                    .hasMessageContaining("maxTokensPerCall");
            HostTensor ids = HostTensor.allocate(arena, DType.I32, 4, 2);
            HostTensor w = HostTensor.allocate(arena, DType.F32, 4, 2);
            ids.data().setAtIndex(ValueLayout.JAVA_INT, 3, 6);
            assertThatThrownBy(() -> k.forward(hidden, Routing.topK(ids, w), out))
                    .isInstanceOf(BadInputException.class).hasMessageContaining("outside [0, 6)");
            k.close();
            assertThatThrownBy(() -> k.forward(hidden, logits, out)).isInstanceOf(KernelStateException.class)
                    .hasMessageContaining("closed");
        }
    }

    @Test
    void deviceTensorsGiveTheSameResultAsHostTensors() {
        try (Arena arena = Arena.ofConfined(); MoeKernel k = PROVIDER.create(SPEC, device)) {
            k.prepare(RandomMoe.weights(SPEC, seed, arena));
            HostTensor hidden = RandomMoe.hidden(5, 64, DType.BF16, seed + 1, arena);
            HostTensor logits = RandomMoe.routerLogits(5, 6, seed + 2, arena);
            HostTensor hostOut = HostTensor.allocate(arena, DType.F32, 5, 64);
            k.forward(hidden, Routing.logits(logits), hostOut);
            try (DeviceTensor dh = k.allocate(DType.BF16, 5, 64); DeviceTensor dl = k.allocate(DType.F32, 5, 6);
                 DeviceTensor dout = k.allocate(DType.F32, 5, 64)) {
                dh.copyFrom(hidden);
                dl.copyFrom(logits);
                k.forward(dh, Routing.logits(dl), dout);
                k.synchronize();
                HostTensor back = HostTensor.allocate(arena, DType.F32, 5, 64);
                XpuTestSupport.poison(back);
                dout.copyTo(back);
                assertThat(back.data().mismatch(hostOut.data())).isEqualTo(-1);
                assertThat(dout.deviceId()).isEqualTo(device.id());
                assertThatThrownBy(() -> dout.copyTo(HostTensor.allocate(arena, DType.F32, 4, 64)))
                        .isInstanceOf(BadInputException.class);
            }
            assertThat(RelativeError.l2(hostOut, hostOut)).isZero();
        }
    }

    @Test
    void createRefusesUnsupportedAndSimulatedDevices() {
        DeviceInfo sim = new DeviceInfo("sim:xe-hpc", io.moeoracle.api.device.Vendor.INTEL, "xe-hpc", "sim", 1, 1,
                java.util.Set.of(), true);
        assertThatThrownBy(() -> PROVIDER.create(SPEC, sim)).isInstanceOf(BadInputException.class)
                .hasMessageContaining("simulated");
        assertThatThrownBy(() -> PROVIDER.create(SPEC.toBuilder().quant(QuantScheme.MXFP4_MXFP8).build(), device))
                .isInstanceOf(UnsupportedSpecException.class).hasMessageContaining("mxfp8");
    }

    @Test
    void ceilingsAreMeasuredWithProfilingEvents() {
        io.moeoracle.api.RooflineProbe.Ceilings c = XpuCeilings.measure(
                io.moeoracle.driver.opencl.OpenCl.device(device.id()).orElseThrow(), 16L << 20);
        LOG.info("ceilings on {}: {} GB/s, {} GFLOP/s", device.name(), c.bytesPerSecond() / 1e9, c.flopsPerSecond() / 1e9);
        assertThat(c.bytesPerSecond()).isGreaterThan(1e6);
        assertThat(c.flopsPerSecond()).isGreaterThan(1e6);
        assertThat(c.bandwidthMethod()).contains("16 MiB");
    }
}
