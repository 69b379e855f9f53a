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
    OTHER
}
