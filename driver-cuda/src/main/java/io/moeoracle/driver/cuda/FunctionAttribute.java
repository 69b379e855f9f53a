package io.moeoracle.driver.cuda;

/** The {@code CUfunction_attribute} values this facade reads or sets (the numbers are the driver's). */
public enum FunctionAttribute {
    /** Most threads a block of this kernel can have. */
    MAX_THREADS_PER_BLOCK(0),
    /** Static shared memory, bytes. */
    SHARED_SIZE_BYTES(1),
    /** Constant memory, bytes. */
    CONST_SIZE_BYTES(2),
    /** Local memory per thread (spills, stack), bytes. */
    LOCAL_SIZE_BYTES(3),
    /** Registers per thread. */
    NUM_REGS(4),
    /** PTX version the kernel was compiled from, e.g. 90. */
    PTX_VERSION(5),
    /** Binary (SASS) version, e.g. 90. */
    BINARY_VERSION(6),
    /** Dynamic shared memory a launch may ask for, bytes (48 KiB until raised). */
    MAX_DYNAMIC_SHARED_SIZE_BYTES(8),
    /** Preferred shared-memory carveout, percent. */
    PREFERRED_SHARED_MEMORY_CARVEOUT(9);

    private final int code;

    FunctionAttribute(int code) {
        this.code = code;
    }

    /** @return the driver's enum value */
    public int code() {
        return code;
    }
}
