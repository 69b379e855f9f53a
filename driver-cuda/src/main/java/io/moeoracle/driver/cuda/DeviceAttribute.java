package io.moeoracle.driver.cuda;

/** The {@code CUdevice_attribute} values this facade reads (the numbers are the driver's). */
public enum DeviceAttribute {
    /** Maximum threads per block. */
    MAX_THREADS_PER_BLOCK(1),
    /** Warp size in threads. */
    WARP_SIZE(10),
    /** Typical SM clock in kHz. */
    CLOCK_RATE_KHZ(13),
    /** Number of streaming multiprocessors. */
    MULTIPROCESSOR_COUNT(16),
    /** Peak memory clock in kHz. */
    MEMORY_CLOCK_RATE_KHZ(36),
    /** Memory bus width in bits. */
    GLOBAL_MEMORY_BUS_WIDTH(37),
    /** L2 cache size in bytes. */
    L2_CACHE_SIZE(38),
    /** Major compute capability. */
    COMPUTE_CAPABILITY_MAJOR(75),
    /** Minor compute capability. */
    COMPUTE_CAPABILITY_MINOR(76),
    /** Shared memory per multiprocessor in bytes. */
    MAX_SHARED_MEMORY_PER_MULTIPROCESSOR(81),
    /** Shared memory a block may opt in to (the ceiling for {@code CudaFunction.setMaxDynamicSharedMemory}). */
    MAX_SHARED_MEMORY_PER_BLOCK_OPTIN(97);

    private final int code;

    DeviceAttribute(int code) {
        this.code = code;
    }

    /** @return the driver's enum value */
    public int code() {
        return code;
    }
}
