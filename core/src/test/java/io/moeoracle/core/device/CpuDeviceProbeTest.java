package io.moeoracle.core.device;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.DeviceProbe;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

class CpuDeviceProbeTest {

    private static String cpuinfo(String flags) {
        return "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Test  CPU   9000\nflags\t\t: " + flags
                + "\n\nprocessor\t: 1\nflags\t\t: " + flags + "\n";
    }

    @Test
    void avx512NeedsFAndBw() {
        DeviceInfo d = CpuDeviceProbe.describe("amd64", Optional.of(cpuinfo("fpu sse avx2 fma avx512f avx512bw"
                + " avx512_bf16 avx512vl")), OptionalLong.of(64L << 30), 8, 1L << 30);
        assertThat(d.arch()).isEqualTo("x86-64-avx512");
        assertThat(d.features()).containsExactlyInAnyOrder("avx2", "fma", "avx512f", "avx512bw", "avx512_bf16",
                "avx512vl");
        assertThat(d.name()).isEqualTo("Test CPU 9000");
        assertThat(d.id()).isEqualTo("cpu");
        assertThat(d.vendor()).isEqualTo(Vendor.CPU);
        assertThat(d.memoryBytes()).isEqualTo(64L << 30);
        assertThat(d.computeUnits()).isEqualTo(8);
        assertThat(d.simulated()).isFalse();
    }

    @Test
    void avx512FWithoutBwIsAvx2Level() {
        DeviceInfo d = CpuDeviceProbe.describe("x86_64", Optional.of(cpuinfo("avx2 fma avx512f")), OptionalLong.empty(),
                4, 123L);
        assertThat(d.arch()).isEqualTo("x86-64-avx2");
        assertThat(d.memoryBytes()).as("max heap when MemTotal is unknown").isEqualTo(123L);
    }

    @Test
    void avx2NeedsFma() {
        assertThat(CpuDeviceProbe.describe("amd64", Optional.of(cpuinfo("avx avx2")), OptionalLong.empty(), 1, 1)
                .arch()).isEqualTo("x86-64");
        assertThat(CpuDeviceProbe.describe("amd64", Optional.empty(), OptionalLong.empty(), 1, 1).arch())
                .isEqualTo("x86-64");
    }

    @Test
    void armIsAarch64() {
        DeviceInfo d = CpuDeviceProbe.describe("aarch64", Optional.of("processor : 0\nFeatures : fp asimd sve bf16\n"),
                OptionalLong.empty(), 2, 1);
        assertThat(d.arch()).isEqualTo("aarch64");
        assertThat(d.features()).containsExactlyInAnyOrder("asimd", "sve", "bf16");
        assertThat(d.name()).isEqualTo("aarch64 CPU");
    }

    @Test
    @EnabledOnOs(OS.LINUX)
    void probesThisMachineConsistentlyWithProcCpuinfo() throws Exception {
        DeviceProbe.Result r = new CpuDeviceProbe().probe();
        assertThat(r.probeId()).isEqualTo("cpu");
        assertThat(r.reason()).isEmpty();
        DeviceInfo d = r.devices().getFirst();
        Set<String> flags = Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                .filter(l -> l.startsWith("flags") || l.startsWith("Features")).findFirst()
                .map(l -> Arrays.stream(l.substring(l.indexOf(':') + 1).trim().split("\\s+")).collect(Collectors.toSet()))
                .orElse(Set.of());
        String arch = System.getProperty("os.arch");
        String expected = arch.equals("aarch64") ? "aarch64"
                : flags.contains("avx512f") && flags.contains("avx512bw") ? "x86-64-avx512"
                : flags.contains("avx2") && flags.contains("fma") ? "x86-64-avx2" : "x86-64";
        assertThat(d.arch()).isEqualTo(expected);
        assertThat(flags).containsAll(d.features());
        assertThat(d.computeUnits()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(d.memoryBytes()).isGreaterThan(Runtime.getRuntime().maxMemory() / 4);
        assertThat(d.simulated()).isFalse();
        // the machine this project is developed on has AVX-512 BF16; say so when it does
        if (flags.contains("avx512_bf16")) {
            assertThat(d.arch()).isEqualTo("x86-64-avx512");
            assertThat(d.features()).contains("avx512_bf16", "avx512f", "avx512bw", "avx2", "fma");
        }
    }
}
