package io.moeoracle.backend.cpu;

import io.moeoracle.api.Setting;
import java.util.List;

/**
 * The settings of the {@code cpu} backend, read only through this class; they are the defaults of
 * {@link CpuOptions} (a host can configure a provider instance instead: {@link CpuMoeProvider#CpuMoeProvider(CpuOptions)}).
 */
public final class CpuSettings {
    /** Native worker threads per kernel. */
    public static final Setting THREADS = Setting.property("moe.cpu.threads", "",
            "native worker threads of the cpu backend, 1 to 4096 (default: all cores)");
    /** Forces a kernel set below the host's best. */
    public static final Setting ISA = Setting.property("moe.cpu.isa", "",
            "force a lower cpu kernel set: avx2 or scalar (default: the best the host runs)");
    /** Buffer size of the cpu read-bandwidth probe. */
    public static final Setting PROBE_BYTES = Setting.property("moe.cpu.probe.bytes", String.valueOf(1L << 30),
            "bytes the cpu backend's read-bandwidth probe streams (bench ceilings)");

    private CpuSettings() {
    }

    /** @return every setting of this module */
    public static List<Setting> all() {
        return List.of(THREADS, ISA, PROBE_BYTES);
    }
}
