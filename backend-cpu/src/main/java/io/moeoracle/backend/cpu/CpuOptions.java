package io.moeoracle.backend.cpu;

import java.util.Optional;
import java.util.OptionalInt;

/**
 * How a {@link CpuMoeProvider} instance runs its kernels. The provider found by ServiceLoader reads
 * them from {@link CpuSettings} at each use; a host may instead bind a configured instance:
 * {@code new CpuMoeProvider(CpuOptions.builder().threads(4).build())}.
 *
 * @param threads native worker threads per kernel; empty: all cores
 * @param isa a kernel set below the host's best to force; empty: the best the host runs
 * @param probeBytes bytes the read-bandwidth probe streams
 */
public record CpuOptions(OptionalInt threads, Optional<CpuIsa> isa, long probeBytes) {
    /** Checks the ranges. */
    public CpuOptions {
        if (threads.isPresent() && (threads.getAsInt() < 1 || threads.getAsInt() > 4096)) {
            throw new IllegalArgumentException("cpu threads must be in [1, 4096], not " + threads.getAsInt());
        }
        if (probeBytes < (1 << 20)) {
            throw new IllegalArgumentException("the cpu bandwidth probe needs at least 1 MiB, not " + probeBytes);
        }
    }

    /**
     * @return the options the settings describe ({@code moe.cpu.threads}, {@code moe.cpu.isa},
     *     {@code moe.cpu.probe.bytes})
     * @throws IllegalArgumentException naming the setting whose value is wrong
     */
    public static CpuOptions fromSettings() {
        OptionalInt threads = CpuSettings.THREADS.value()
                .map(t -> OptionalInt.of((int) CpuSettings.THREADS.parseLong(t, 1, 4096))).orElse(OptionalInt.empty());
        Optional<CpuIsa> isa = CpuSettings.ISA.value().flatMap(CpuIsa::parse);
        long probe = CpuSettings.PROBE_BYTES.parseLong(CpuSettings.PROBE_BYTES.valueOrDefault(), 1 << 20, 1L << 40);
        return new CpuOptions(threads, isa, probe);
    }

    /** @return a builder starting from the defaults (all cores, the best ISA, a 1 GiB probe) */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the worker threads a kernel starts */
    public int threadCount() {
        return threads.orElseGet(() -> Runtime.getRuntime().availableProcessors());
    }

    /** Builds {@link CpuOptions}. */
    public static final class Builder {
        private OptionalInt threads = OptionalInt.empty();
        private Optional<CpuIsa> isa = Optional.empty();
        private long probeBytes = 1L << 30;

        private Builder() {
        }

        /** @param n worker threads per kernel, 1 to 4096 @return this */
        public Builder threads(int n) {
            this.threads = OptionalInt.of(n);
            return this;
        }

        /** @param forced a kernel set at or below the host's best @return this */
        public Builder isa(CpuIsa forced) {
            this.isa = Optional.of(forced);
            return this;
        }

        /** @param bytes bytes the read-bandwidth probe streams @return this */
        public Builder probeBytes(long bytes) {
            this.probeBytes = bytes;
            return this;
        }

        /** @return the options */
        public CpuOptions build() {
            return new CpuOptions(threads, isa, probeBytes);
        }
    }
}
