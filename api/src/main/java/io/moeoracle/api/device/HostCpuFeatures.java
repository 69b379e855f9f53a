package io.moeoracle.api.device;

import java.io.FileInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;

/**
 * The one place that reads the host CPU's description ({@code /proc/cpuinfo} and
 * {@code /proc/meminfo} on Linux, {@code os.arch} elsewhere). It lives in {@code api} so that
 * core's device probe and a backend (which may not depend on core) see the same CPU: the same
 * architecture level and the same feature names.
 *
 * <p>Architecture levels: {@link #ARCH_AVX512} (AVX-512 F and BW, with or without BF16: the
 * features tell, see {@link #hasAvx512Bf16}), {@link #ARCH_AVX2} (AVX2 and FMA),
 * {@link #ARCH_X86_64}, {@link #ARCH_AARCH64}, else {@code os.arch} lower-cased.
 */
public final class HostCpuFeatures {
    /** Arch of an x86-64 CPU with AVX-512 F and BW (BF16 or not: see the features). */
    public static final String ARCH_AVX512 = "x86-64-avx512";
    /** Arch of an x86-64 CPU with AVX2 and FMA. */
    public static final String ARCH_AVX2 = "x86-64-avx2";
    /** Arch of any other x86-64 CPU. */
    public static final String ARCH_X86_64 = "x86-64";
    /** Arch of a 64-bit ARM CPU. */
    public static final String ARCH_AARCH64 = "aarch64";

    /** The flags some kernel cares about, as {@code /proc/cpuinfo} spells them; a device's features are the subset it has. */
    public static final Set<String> RELEVANT = Set.of(
            "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd", "avx512_bf16", "avx512_fp16", "avx512_vnni",
            "avx512vnni", "amx_bf16", "amx_tile", "amx_int8", "avx_vnni", "avx2", "fma", "f16c", "sse4_2",
            "neon", "asimd", "asimddp", "asimdhp", "sve", "sve2", "bf16", "i8mm");

    private static final Path CPUINFO = Path.of("/proc/cpuinfo");
    private static final Path MEMINFO = Path.of("/proc/meminfo");

    private HostCpuFeatures() {
    }

    /**
     * Describes this machine's CPU as the device {@code cpu}, read fresh each call (cheap: two small
     * pseudo-files).
     *
     * @return the host CPU
     */
    public static DeviceInfo host() {
        Optional<String> cpuinfo = read(CPUINFO);
        Optional<String> meminfo = read(MEMINFO);
        OptionalLong memTotal = meminfo.isPresent() ? memTotal(meminfo.get()) : OptionalLong.empty();
        return describe(System.getProperty("os.arch", "unknown"), cpuinfo, memTotal,
                Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory())
                .withDriverVersion(operatingSystem());
    }

    /** @return what stands in for the host CPU's driver: the operating system and its version, e.g. {@code Linux 6.8.0} */
    public static String operatingSystem() {
        return System.getProperty("os.name", "unknown OS") + " " + System.getProperty("os.version", "");
    }

    /**
     * Builds the device from what was read; pure, so tests can feed it any CPU.
     *
     * @param osArch the {@code os.arch} property
     * @param cpuinfo the text of {@code /proc/cpuinfo}, if readable
     * @param memTotalBytes MemTotal from {@code /proc/meminfo}, if readable
     * @param cores available processors
     * @param maxHeap the JVM's max heap, the memory figure when MemTotal is unknown
     * @return the device, id {@code cpu}
     */
    public static DeviceInfo describe(String osArch, Optional<String> cpuinfo, OptionalLong memTotalBytes, int cores,
                                      long maxHeap) {
        // plain loops, no streams or regular expressions: the cpu probe runs in a cold JVM's first discovery
        Set<String> flags = cpuinfo.isPresent() ? flags(cpuinfo.get()) : Set.of();
        Optional<String> named = cpuinfo.isPresent() ? modelName(cpuinfo.get()) : Optional.empty();
        String model = named.isPresent() ? named.get() : osArch + " CPU";
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
        Set<String> features = new TreeSet<>();
        for (String f : flags) {
            if (RELEVANT.contains(f)) {
                features.add(f);
            }
        }
        return new DeviceInfo("cpu", Vendor.CPU, arch, model, Math.max(1, cores), memTotalBytes.orElse(maxHeap),
                features, false);
    }

    /**
     * @param device a CPU device
     * @return whether it runs AVX-512 BF16 dot products ({@code vdpbf16ps}: avx512f, bw, vl and avx512_bf16)
     */
    public static boolean hasAvx512Bf16(DeviceInfo device) {
        return device.hasFeature("avx512f") && device.hasFeature("avx512bw") && device.hasFeature("avx512vl")
                && (device.hasFeature("avx512_bf16") || device.hasFeature("avx512bf16"));
    }

    private static Optional<String> read(Path p) {
        // java.io, not java.nio.file.Files: a fresh JVM reads these 2 ms sooner without setting up NIO's file channels
        try (FileInputStream in = new FileInputStream(p.toFile())) {
            return Optional.of(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            return Optional.empty(); // not Linux or not readable: os.arch alone is still a correct, coarser answer
        }
    }

    private static Set<String> flags(String cpuinfo) {
        for (String line : lines(cpuinfo)) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String key = line.substring(0, colon).trim();
            if (key.equals("flags") || key.equals("Features")) {
                return Set.copyOf(words(line.substring(colon + 1)));
            }
        }
        return Set.of();
    }

    private static Optional<String> modelName(String cpuinfo) {
        for (String line : lines(cpuinfo)) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equals("model name")) {
                String v = String.join(" ", words(line.substring(colon + 1)));
                if (!v.isEmpty()) {
                    return Optional.of(v);
                }
            }
        }
        return Optional.empty();
    }

    /** The lines of a text (ended by \n, \r\n or \r), without their ends. */
    private static List<String> lines(String text) {
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\n' || c == '\r') {
                out.add(text.substring(start, i));
                if (c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n') {
                    i++;
                }
                start = i + 1;
            }
        }
        if (start < text.length()) {
            out.add(text.substring(start));
        }
        return out;
    }

    /** The words of a text, split at runs of whitespace. */
    private static List<String> words(String text) {
        List<String> out = new ArrayList<>();
        int start = -1;
        for (int i = 0; i <= text.length(); i++) {
            boolean space = i == text.length() || Character.isWhitespace(text.charAt(i));
            if (space && start >= 0) {
                out.add(text.substring(start, i));
                start = -1;
            } else if (!space && start < 0) {
                start = i;
            }
        }
        return out;
    }

    private static OptionalLong memTotal(String meminfo) {
        for (String line : lines(meminfo)) {
            if (line.startsWith("MemTotal:")) {
                List<String> parts = words(line.substring("MemTotal:".length()));
                if (parts.isEmpty()) {
                    return OptionalLong.empty();
                }
                try {
                    long v = Long.parseLong(parts.get(0));
                    boolean kb = parts.size() < 2 || parts.get(1).equalsIgnoreCase("kB");
                    return OptionalLong.of(kb ? v * 1024 : v);
                } catch (NumberFormatException e) {
                    return OptionalLong.empty();
                }
            }
        }
        return OptionalLong.empty();
    }
}
