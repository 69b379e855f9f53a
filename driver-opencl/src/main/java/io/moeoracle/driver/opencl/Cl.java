package io.moeoracle.driver.opencl;

/** The OpenCL enum values this facade uses. */
final class Cl {
    static final int PLATFORM_VERSION = 0x0901;
    static final int PLATFORM_NAME = 0x0902;
    static final int PLATFORM_VENDOR = 0x0903;

    static final long DEVICE_TYPE_ALL = 0xFFFFFFFFL;
    static final int DEVICE_TYPE = 0x1000;
    static final int DEVICE_VENDOR_ID = 0x1001;
    static final int DEVICE_MAX_COMPUTE_UNITS = 0x1002;
    static final int DEVICE_MAX_WORK_GROUP_SIZE = 0x1004;
    static final int DEVICE_MAX_CLOCK_FREQUENCY = 0x100C;
    static final int DEVICE_GLOBAL_MEM_SIZE = 0x101F;
    static final int DEVICE_LOCAL_MEM_SIZE = 0x1023;
    static final int DEVICE_NAME = 0x102B;
    static final int DEVICE_VENDOR = 0x102C;
    static final int DRIVER_VERSION = 0x102D;
    static final int DEVICE_VERSION = 0x102F;
    static final int DEVICE_EXTENSIONS = 0x1030;
    static final int DEVICE_OPENCL_C_VERSION = 0x103D;
    static final int DEVICE_COMPUTE_CAPABILITY_MAJOR_NV = 0x4000;
    static final int DEVICE_COMPUTE_CAPABILITY_MINOR_NV = 0x4001;
    static final int DEVICE_IP_VERSION_INTEL = 0x4250;

    static final long QUEUE_PROFILING_ENABLE = 1L << 1;

    static final int PROGRAM_BINARY_SIZES = 0x1165;
    static final int PROGRAM_BINARIES = 0x1166;
    static final int PROGRAM_BUILD_LOG = 0x1183;

    static final int KERNEL_WORK_GROUP_SIZE = 0x11B0;

    static final int PROFILING_COMMAND_QUEUED = 0x1280;
    static final int PROFILING_COMMAND_SUBMIT = 0x1281;
    static final int PROFILING_COMMAND_START = 0x1282;
    static final int PROFILING_COMMAND_END = 0x1283;

    private Cl() {
    }
}
