package io.moeoracle.backend.xpu;

import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * How an {@link XpuKernelProvider} instance judges devices and builds its kernels. The provider
 * found by ServiceLoader reads them from {@link XpuSettings} at each use; a host may instead bind
 * a configured instance: {@code new XpuKernelProvider(XpuOptions.builder().anyDevice(true).build())}.
 *
 * @param anyDevice accept any OpenCL device, not only Intel Xe GPUs
 * @param path the GEMM kernel variant: {@code auto}, {@code subgroup} or {@code portable}
 * @param blockReads use {@code intel_sub_group_block_read} on Intel devices
 */
public record XpuOptions(boolean anyDevice, String path, boolean blockReads) {
    private static final Set<String> PATHS = Set.of("auto", "subgroup", "portable");

    /** Normalizes the path and checks it. */
    public XpuOptions {
        path = Objects.requireNonNull(path, "path").trim().toLowerCase(Locale.ROOT);
        if (!PATHS.contains(path)) {
            throw new IllegalArgumentException("xpu kernel path '" + path + "' is unknown; use auto, subgroup or portable"
                    + " (" + XpuSettings.PATH.describe() + ")");
        }
    }

    /**
     * @return the options the settings describe ({@code moe.xpu.anyDevice}, {@code moe.xpu.path},
     *     {@code moe.xpu.blockReads})
     * @throws IllegalArgumentException naming the setting whose value is wrong
     */
    public static XpuOptions fromSettings() {
        String path = XpuSettings.PATH.valueOrDefault().toLowerCase(Locale.ROOT);
        if (!PATHS.contains(path)) {
            throw XpuSettings.PATH.invalid(path, "auto, subgroup or portable");
        }
        return new XpuOptions(XpuSettings.ANY_DEVICE.booleanValue(), path, XpuSettings.BLOCK_READS.booleanValue());
    }

    /** @return a builder starting from the defaults (Intel Xe only, automatic path, block reads on) */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds {@link XpuOptions}. */
    public static final class Builder {
        private boolean anyDevice;
        private String path = "auto";
        private boolean blockReads = true;

        private Builder() {
        }

        /** @param on accept any OpenCL device @return this */
        public Builder anyDevice(boolean on) {
            this.anyDevice = on;
            return this;
        }

        /** @param variant {@code auto}, {@code subgroup} or {@code portable} @return this */
        public Builder path(String variant) {
            this.path = variant;
            return this;
        }

        /** @param on use Intel sub-group block reads @return this */
        public Builder blockReads(boolean on) {
            this.blockReads = on;
            return this;
        }

        /** @return the options */
        public XpuOptions build() {
            return new XpuOptions(anyDevice, path, blockReads);
        }
    }
}
