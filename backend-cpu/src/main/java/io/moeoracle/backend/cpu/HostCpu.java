package io.moeoracle.backend.cpu;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * Describes this machine's CPU as a {@link DeviceInfo} (from {@code /proc/cpuinfo} on Linux), for
 * hosts and benchmarks that have no device probe at hand.
 */
public final class HostCpu {
    /** The CPU features the kernels care about, as spelled in {@code /proc/cpuinfo}. */
    private static final List<String> FEATURES = List.of("avx2", "fma", "avx512f", "avx512bw", "avx512vl",
            "avx512_bf16", "avx512_vnni", "avx512_fp16", "amx_bf16", "neon", "asimd", "sve");

    private HostCpu() {
    }

    /** @return the host CPU, id {@code cpu} */
    public static DeviceInfo device() {
        String model = System.getProperty("os.arch");
        Set<String> features = new TreeSet<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                int colon = line.indexOf(':');
                if (colon < 0) {
                    continue;
                }
                String key = line.substring(0, colon).trim();
                String value = line.substring(colon + 1).trim();
                if (key.equals("model name") && model.equals(System.getProperty("os.arch"))) {
                    model = value;
                } else if ((key.equals("flags") || key.equals("Features")) && features.isEmpty()) {
                    Set<String> flags = new TreeSet<>(Arrays.asList(value.split("\\s+")));
                    for (String f : FEATURES) {
                        if (flags.contains(f)) {
                            features.add(f);
                        }
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux or not readable: an arch-only description is still correct, just less precise
        }
        String osArch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        boolean x86 = osArch.equals("amd64") || osArch.equals("x86_64");
        String arch = x86 ? "x86-64" + (features.contains("avx512_bf16") ? "-avx512"
                : features.contains("avx2") ? "-avx2" : "") : osArch;
        return new DeviceInfo("cpu", Vendor.CPU, arch, model, Runtime.getRuntime().availableProcessors(),
                memoryBytes(), features, false);
    }

    private static long memoryBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    String[] parts = line.split("\\s+");
                    return Long.parseLong(parts[1]) * 1024L;
                }
            }
        } catch (IOException | RuntimeException e) {
            // fall through
        }
        return Runtime.getRuntime().maxMemory();
    }
}
