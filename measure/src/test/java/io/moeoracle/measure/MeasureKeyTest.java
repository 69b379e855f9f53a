package io.moeoracle.measure;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.device.HostCpuFeatures;
import io.moeoracle.api.spec.MoeLayerSpec;
import java.util.Map;
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
