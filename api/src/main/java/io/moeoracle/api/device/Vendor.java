package io.moeoracle.api.device;

/** Who made the device. */
public enum Vendor {
    /** NVIDIA GPUs, arch {@code sm_XY}. */
    NVIDIA,
    /** AMD GPUs, arch {@code gfxNNN}. */
    AMD,
    /** Intel GPUs, arch {@code xe-*}. */
    INTEL,
    /** The host CPU, arch such as {@code x86-64-avx512}. */
    CPU,
    /** Anything else (e.g. an OpenCL device of another vendor). */
    OTHER;

    /**
     * This vendor's kind of device as an English noun phrase with its article, for verdicts
     * ("... is an AMD GPU").
     *
     * @return e.g. {@code "an NVIDIA GPU"}, {@code "an AMD GPU"}, {@code "an Intel GPU"}, {@code "the host CPU"},
     *         {@code "a device of another vendor"}
     */
    public String device() {
        return switch (this) {
            case NVIDIA -> "an NVIDIA GPU";
            case AMD -> "an AMD GPU";
            case INTEL -> "an Intel GPU";
            case CPU -> "the host CPU";
            case OTHER -> "a device of another vendor";
        };
    }
}
