package io.moeoracle.core.device;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.DeviceProbe;
import io.moeoracle.api.device.DeviceAddress;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.SimulatedDeviceCatalogue;
import io.moeoracle.api.device.Vendor;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class DeviceRegistryTest {
    private static final DeviceInfo CPU = new DeviceInfo("cpu", Vendor.CPU, "x86-64-avx2", "test cpu", 4, 1L << 34,
            Set.of("avx2", "fma"), false);
    private static final DeviceInfo GPU0 = new DeviceInfo("cuda:0", Vendor.NVIDIA, "sm_90", "test gpu", 132, 80L << 30,
            Set.of("fp8"), false);
    private static final DeviceInfo GPU1 = new DeviceInfo("cuda:1", Vendor.NVIDIA, "sm_90", "test gpu", 132, 80L << 30,
            Set.of("fp8"), false);

    /** A probe that counts its calls. */
    private static final class FixedProbe implements DeviceProbe {
        private final String id;
        private final List<DeviceInfo> devices;
        final AtomicInteger calls = new AtomicInteger();

        FixedProbe(String id, DeviceInfo... devices) {
            this.id = id;
            this.devices = List.of(devices);
        }

        @Override
        public String id() {
            return id;
        }

        @Override
        public Result probe() {
            calls.incrementAndGet();
            return devices.isEmpty() ? Result.none(id, "no driver") : Result.found(id, devices);
        }
    }

    private static final class ThrowingProbe implements DeviceProbe {
        @Override
        public String id() {
            return "broken";
        }

        @Override
        public Result probe() {
            throw new IllegalStateException("driver crashed");
        }
    }

    @Test
    void autoPrefersTheFirstRealAccelerator() {
        DeviceRegistry r = DeviceRegistry.of(List.of(new FixedProbe("cpu", CPU), new FixedProbe("cuda", GPU0, GPU1)));
        assertThat(r.resolve("auto")).isEqualTo(GPU0);
        assertThat(r.resolve("AUTO")).isEqualTo(GPU0);
    }

    @Test
    void autoTakesTheHostCpuBeforeACpuSeenThroughOpenClWhateverTheProbeOrder() {
        DeviceInfo pocl = new DeviceInfo("opencl:0:0", Vendor.CPU, "opencl-cpu-pocl", "pthread", 2, 1L << 33, Set.of(),
                false);
        DeviceRegistry r = DeviceRegistry.of(List.of(new FixedProbe("opencl", pocl), new FixedProbe("cpu", CPU)));
        assertThat(r.resolve("auto")).isEqualTo(CPU);
    }

    @Test
    void autoFallsBackToTheCpu() {
        DeviceRegistry r = DeviceRegistry.of(List.of(new FixedProbe("cuda"), new FixedProbe("cpu", CPU)));
        assertThat(r.resolve("auto")).isEqualTo(CPU);
    }

    @Test
    void resolvesSimulatedAndRealIds() {
        DeviceRegistry r = DeviceRegistry.of(List.of(new FixedProbe("cpu", CPU), new FixedProbe("cuda", GPU0, GPU1)));
        assertThat(r.resolve("sim:gfx942")).isEqualTo(SimulatedDevices.get("sim:gfx942"));
        assertThat(r.resolve("cuda:1")).isEqualTo(GPU1);
        assertThat(r.resolve(" CPU ")).isEqualTo(CPU);
    }

    @Test
    void anUnknownRealIdListsWhatExists() {
        DeviceRegistry r = DeviceRegistry.of(List.of(new FixedProbe("cpu", CPU)));
        assertThatThrownBy(() -> r.resolve("cuda:3"))
                .isInstanceOf(UnknownDeviceException.class)
                .hasMessageContaining("no device 'cuda:3' on this host; it has cpu")
                .hasMessageContaining("sim:sm_90")
                .hasMessageContaining("moe-oracle devices")
                .satisfies(e -> assertThat(((UnknownDeviceException) e).known()).contains("auto", "cpu", "sim:sm_80"));
        assertThatThrownBy(() -> r.resolve("sim:nope")).isInstanceOf(UnknownDeviceException.class);
    }

    @Test
    void autoWithNoDeviceSaysWhyEachProbeFoundNothing() {
        DeviceRegistry r = DeviceRegistry.of(List.of(new FixedProbe("cuda"), new ThrowingProbe()));
        assertThatThrownBy(() -> r.resolve("auto"))
                .isInstanceOf(UnknownDeviceException.class)
                .hasMessageContaining("cuda: no driver")
                .hasMessageContaining("driver crashed");
    }

    @Test
    void aThrowingProbeBecomesAResultAndTheOthersStillProbe() {
        FixedProbe cpu = new FixedProbe("cpu", CPU);
        DeviceRegistry r = DeviceRegistry.of(List.of(new ThrowingProbe(), cpu));
        List<DeviceProbe.Result> results = r.probeAll();
        assertThat(results).hasSize(2);
        assertThat(results.get(0).probeId()).isEqualTo("broken");
        assertThat(results.get(0).devices()).isEmpty();
        assertThat(results.get(0).reason()).hasValueSatisfying(s -> assertThat(s)
                .contains("IllegalStateException: driver crashed"));
        assertThat(r.devices()).containsExactly(CPU);
    }

    @Test
    void probesRunOnce() {
        FixedProbe cpu = new FixedProbe("cpu", CPU);
        DeviceRegistry r = DeviceRegistry.of(List.of(cpu));
        r.probeAll();
        r.resolve("cpu");
        r.resolve("auto");
        assertThat(r.probeAll()).isSameAs(r.probeAll());
        assertThat(cpu.calls).hasValue(1);
    }

    @Test
    void discoverFindsTheCpuProbe() {
        DeviceRegistry r = DeviceRegistry.discover();
        assertThat(r.probes()).anySatisfy(p -> assertThat(p).isInstanceOf(CpuDeviceProbe.class));
        DeviceInfo cpu = r.resolve("cpu");
        assertThat(cpu.vendor()).isEqualTo(Vendor.CPU);
        assertThat(cpu.simulated()).isFalse();
        assertThat(r.resolve("auto")).isNotNull();
    }

    @Test
    void oneGpuSeenThroughCudaAndOpenClGetsTheOthersAddressAsAnAlias() {
        DeviceInfo cuda = new DeviceInfo("cuda:0", Vendor.NVIDIA, "sm_90", "H100", 132, 80L << 30, Set.of(), false,
                new DeviceAddress.Cuda(0, Optional.of("GPU-0a1b2c3d")), List.of());
        DeviceInfo viaOpenCl = new DeviceInfo("opencl:1:0", Vendor.NVIDIA, "sm_90", "H100", 132, 80L << 30, Set.of(),
                false, new DeviceAddress.OpenCl(1, 0, Optional.of("0A1B2C3D")), List.of());
        DeviceInfo pocl = new DeviceInfo("opencl:0:0", Vendor.CPU, "x86-64", "pocl", 4, 1L << 30, Set.of(), false,
                new DeviceAddress.OpenCl(0, 0, Optional.empty()), List.of());
        DeviceRegistry r = DeviceRegistry.of(List.of(new FixedProbe("cuda", cuda), new FixedProbe("opencl", pocl, viaOpenCl)));

        assertThat(r.resolve("opencl:1:0").address(DeviceAddress.Cuda.class)).map(DeviceAddress.Cuda::ordinal).contains(0);
        assertThat(r.resolve("cuda:0").aliases()).extracting(DeviceAddress::id).containsExactly("opencl:1:0");
        assertThat(r.resolve("opencl:0:0").aliases()).isEmpty();
        assertThat(r.devices()).hasSize(3);
    }

    @Test
    void simulatedIdsResolveThroughTheRegistrysOwnCatalogues() {
        DeviceInfo acme = SimulatedDeviceCatalogue.device("acme-x1", Vendor.OTHER, "acme1", "ACME X1", 8, 1L << 30,
                Set.of("bf16"));
        SimulatedDevices sims = SimulatedDevices.of(List.of(SimulatedDeviceCatalogue.builtIn(), new SimulatedDeviceCatalogue() {
            @Override
            public String id() {
                return "acme";
            }

            @Override
            public List<DeviceInfo> devices() {
                return List.of(acme);
            }
        }));
        DeviceRegistry r = DeviceRegistry.of(List.of(new FixedProbe("cpu", CPU)), sims);
        assertThat(r.resolve("sim:acme-x1")).isEqualTo(acme);
        assertThat(r.resolve("sim:sm_90").smVersion()).hasValue(90);
        assertThatThrownBy(() -> r.resolve("sim:nope")).hasMessageContaining("sim:acme-x1");
    }
}
