package io.moeoracle.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import io.moeoracle.api.DeviceProbe;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.HostCpuFeatures;
import io.moeoracle.backend.cpu.HostCpu;
import io.moeoracle.core.device.CpuDeviceProbe;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The CPU is probed in one place: {@link HostCpuFeatures} is the only product class whose bytecode
 * names {@code /proc/cpuinfo}, and core's probe and the cpu backend describe the same CPU.
 */
class SingleCpuProbeTest {
    private static final byte[] CPUINFO = "/proc/cpuinfo".getBytes(StandardCharsets.UTF_8);

    @Test
    void onlyOneProductClassReadsProcCpuinfo() throws IOException {
        List<String> readers = new ArrayList<>();
        int scanned = 0;
        for (JavaClass c : new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.moeoracle")) {
            URL url = c.getSource().orElseThrow().getUri().toURL();
            try (InputStream in = url.openStream()) {
                scanned++;
                if (indexOf(in.readAllBytes(), CPUINFO) >= 0) { // a string constant in the class's constant pool
                    readers.add(c.getName());
                }
            }
        }
        assertThat(scanned).as("classes scanned").isGreaterThan(100);
        assertThat(readers).as("classes naming /proc/cpuinfo (probe the CPU through HostCpuFeatures instead)")
                .containsExactly(HostCpuFeatures.class.getName());
    }

    @Test
    void coresProbeAndTheCpuBackendDescribeTheSameCpu() {
        DeviceProbe.Result r = new CpuDeviceProbe().probe();
        DeviceInfo fromCore = r.devices().getFirst();
        DeviceInfo fromBackend = HostCpu.device();
        assertThat(fromBackend.arch()).isEqualTo(fromCore.arch());
        assertThat(fromBackend.features()).isEqualTo(fromCore.features());
        assertThat(fromBackend.name()).isEqualTo(fromCore.name());
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
