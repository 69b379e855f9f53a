package io.moeoracle.measure;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.device.DeviceAddress;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.HostCpuFeatures;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.api.spec.MoeLayerSpec;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MeasureKeyTest {

    @Test
    void jarVersionsTellReleasesSnapshotsAndFoldersApart() {
        assertThat(MeasureKey.jarVersion(String.class))
                .isEqualTo(String.class.getModule().getDescriptor().rawVersion().orElseThrow());
        // test classes come from a folder, not a jar
        assertThat(MeasureKey.jarVersion(MeasureKeyTest.class)).isEqualTo("classes");
    }

    @Test
    void theDriverPartIsTheDevicesDriverVersionNotABackendsHostDetail() {
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(4).topK(2).hiddenSize(64).intermediateSize(32).build();
        SpeedProvider p = new SpeedProvider("p", t -> 0L, false);
        MeasureKey host = MeasureKey.of(spec, HostCpuFeatures.host(), Map.of("p", p));
        assertThat(host.driver()).isEqualTo(HostCpuFeatures.operatingSystem()).contains(System.getProperty("os.version"));
        assertThat(host.deviceUuid()).as("no UUID for the host CPU: its id").isEqualTo("cpu");
        assertThat(host.jars()).containsKeys("p", MeasureKey.HARNESS);
        DeviceInfo gpu = new DeviceInfo("cuda:0", Vendor.NVIDIA, "sm_90", "NVIDIA H100 80GB HBM3", 132, 80L << 30,
                Set.of(), false, new DeviceAddress.Cuda(0, Optional.of("0f1e2d3c")), List.of(),
                Optional.of("CUDA 13.0 (cuDriverGetVersion 13000), NVIDIA kernel module 580.65.06"));
        MeasureKey k = MeasureKey.of(spec, gpu, Map.of("p", p));
        assertThat(k.driver()).isEqualTo("CUDA 13.0 (cuDriverGetVersion 13000), NVIDIA kernel module 580.65.06");
        assertThat(k.deviceUuid()).isEqualTo("0f1e2d3c");
        assertThat(k.deviceName()).isEqualTo("NVIDIA H100 80GB HBM3");
        assertThat(MeasureKey.of(spec, gpu.withDriverVersion(""), Map.of("p", p)).driver())
                .isEqualTo(MeasureKey.NO_DRIVER_VERSION);
    }

    @Test
    void everyPartOfTheKeyNamesAnotherFile() {
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(4).topK(2).hiddenSize(64).intermediateSize(32).build();
        SpeedProvider p = new SpeedProvider("p", t -> 0L, false);
        MeasureKey k = MeasureKey.of(spec, HostCpuFeatures.host(), Map.of("p", p));
        assertThat(k.fileName()).matches("measured-[0-9a-f]{24}\\.json");
        assertThat(MeasureKey.of(spec, HostCpuFeatures.host(), Map.of("p", p)).fileName()).isEqualTo(k.fileName());
        for (MeasureKey other : new MeasureKey[] {
            new MeasureKey(k.deviceName() + "x", k.deviceUuid(), k.driver(), k.jars(), k.spec()),
            new MeasureKey(k.deviceName(), "0123", k.driver(), k.jars(), k.spec()),
            new MeasureKey(k.deviceName(), k.deviceUuid(), k.driver() + " 2", k.jars(), k.spec()),
            new MeasureKey(k.deviceName(), k.deviceUuid(), k.driver(), Map.of("p", "2.0"), k.spec()),
            MeasureKey.of(spec.toBuilder().maxTokensPerCall(16).build(), HostCpuFeatures.host(), Map.of("p", p))}) {
            assertThat(other.fileName()).isNotEqualTo(k.fileName());
        }
    }
}
