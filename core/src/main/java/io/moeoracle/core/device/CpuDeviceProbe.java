package io.moeoracle.core.device;

import io.moeoracle.api.DeviceProbe;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Describes the host CPU as a device ({@code cpu}): its architecture level from the
 * {@code /proc/cpuinfo} flags on Linux (or {@code os.arch} elsewhere), its cores and memory.
 */
public final class CpuDeviceProbe implements DeviceProbe {
    /** Arch of an x86-64 CPU with AVX-512 F and BW. */
    public static final String ARCH_AVX512 = "x86-64-avx512";
    /** Arch of an x86-64 CPU with AVX2 and FMA. */
    public static final String ARCH_AVX2 = "x86-64-avx2";
    /** Arch of any other x86-64 CPU. */
    public static final String ARCH_X86_64 = "x86-64";
    /** Arch of a 64-bit ARM CPU. */
    public static final String ARCH_AARCH64 = "aarch64";

    /** The flags kernels care about; the device's feature set is the subset the CPU has. */
    private static final Set<String> RELEVANT = Set.of(
            "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd", "avx512_bf16", "avx512_fp16", "avx512_vnni",
            "avx512vnni", "amx_bf16", "amx_tile", "amx_int8", "avx_vnni", "avx2", "fma", "f16c", "sse4_2",
            "asimd", "asimddp", "asimdhp", "sve", "sve2", "bf16", "i8mm");

    /** Creates the probe; it does its work in {@link #probe()}. */
    public CpuDeviceProbe() {
    }

    @Override
    public String id() {
        return "cpu";
    }

    @Override
    public Result probe() {
        try {
            Optional<String> cpuinfo = read(Path.of("/proc/cpuinfo"));
            OptionalLong memTotal = read(Path.of("/proc/meminfo")).map(CpuDeviceProbe::memTotal)
                    .orElse(OptionalLong.empty());
            DeviceInfo d = describe(System.getProperty("os.arch", "unknown"), cpuinfo, memTotal,
                    Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory());
            return Result.found(id(), List.of(d));
        } catch (RuntimeException e) {
            return Result.none(id(), "could not describe the CPU: " + e);
        }
    }

    private static Optional<String> read(Path p) {
        if (!Files.isReadable(p)) {
            return Optional.empty();
        }
        try {
            return Optional.of(Files.readString(p, StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * Builds the device from what was read; pure, so tests can feed it any CPU.
     *
     * @param osArch the {@code os.arch} property
     * @param cpuinfo the text of {@code /proc/cpuinfo}, if readable
     * @param memTotalBytes MemTotal from {@code /proc/meminfo}, if readable
     * @param cores available processors
     * @param maxHeap the JVM's max heap, the memory figure when MemTotal is unknown
     * @return the device
     */
    static DeviceInfo describe(String osArch, Optional<String> cpuinfo, OptionalLong memTotalBytes, int cores,
                               long maxHeap) {
        Set<String> flags = cpuinfo.map(CpuDeviceProbe::flags).orElse(Set.of());
        String model = cpuinfo.flatMap(CpuDeviceProbe::modelName).orElse(osArch + " CPU");
        String a = osArch.toLowerCase(Locale.ROOT);
        boolean x86 = a.equals("amd64") || a.equals("x86_64") || a.equals("x86-64");
        boolean arm = a.equals("aarch64") || a.equals("arm64");
        String arch;
        if (x86 && flags.contains("avx512f") && flags.contains("avx512bw")) {
            arch = ARCH_AVX512;
        } else if (x86 && flags.contains("avx2") && flags.contains("fma")) {
            arch = ARCH_AVX2;
        } else if (x86) {
            arch = ARCH_X86_64;
        } else if (arm) {
            arch = ARCH_AARCH64;
        } else {
            arch = a;
        }
        Set<String> features = flags.stream().filter(RELEVANT::contains).collect(Collectors.toCollection(TreeSet::new));
        long memory = memTotalBytes.orElse(maxHeap);
        return new DeviceInfo("cpu", Vendor.CPU, arch, model, Math.max(1, cores), memory, features, false);
    }

    private static Set<String> flags(String cpuinfo) {
        for (String line : cpuinfo.split("\\R")) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String key = line.substring(0, colon).trim();
            if (key.equals("flags") || key.equals("Features")) {
                return Arrays.stream(line.substring(colon + 1).trim().split("\\s+"))
                        .filter(s -> !s.isEmpty()).collect(Collectors.toUnmodifiableSet());
            }
        }
        return Set.of();
    }

    private static Optional<String> modelName(String cpuinfo) {
        for (String line : cpuinfo.split("\\R")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equals("model name")) {
                String v = line.substring(colon + 1).trim().replaceAll("\\s+", " ");
                if (!v.isEmpty()) {
                    return Optional.of(v);
                }
            }
        }
        return Optional.empty();
    }

    private static OptionalLong memTotal(String meminfo) {
        for (String line : meminfo.split("\\R")) {
            if (line.startsWith("MemTotal:")) {
                String[] parts = line.substring("MemTotal:".length()).trim().split("\\s+");
                try {
                    long v = Long.parseLong(parts[0]);
                    boolean kb = parts.length < 2 || parts[1].equalsIgnoreCase("kB");
                    return OptionalLong.of(kb ? v * 1024 : v);
                } catch (NumberFormatException e) {
                    return OptionalLong.empty();
                }
            }
        }
        return OptionalLong.empty();
    }
}
