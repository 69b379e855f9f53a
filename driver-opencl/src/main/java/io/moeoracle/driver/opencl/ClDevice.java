package io.moeoracle.driver.opencl;

import io.moeoracle.api.device.DeviceAddress;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.driver.opencl.ffi.PlatformCalls;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/** One OpenCL device, with its properties read once at construction. */
public final class ClDevice {
    /** CL_DEVICE_TYPE_CPU. */
    public static final long TYPE_CPU = 1L << 1;
    /** CL_DEVICE_TYPE_GPU. */
    public static final long TYPE_GPU = 1L << 2;
    /** CL_DEVICE_TYPE_ACCELERATOR. */
    public static final long TYPE_ACCELERATOR = 1L << 3;

    private final ClPlatform platform;
    private final int index;
    private final MemorySegment handle;
    private final String name;
    private final String vendor;
    private final int vendorId;
    private final long type;
    private final String driverVersion;
    private final String version;
    private final String openClCVersion;
    private final Set<String> extensions;
    private final int computeUnits;
    private final long globalMemBytes;
    private final long localMemBytes;
    private final long maxWorkGroupSize;
    private final OptionalInt intelIpVersion;
    private final OptionalInt nvComputeCapability;
    private final Optional<String> uuid;
    /** CL_DEVICE_UUID_KHR (cl_khr_device_uuid): 16 bytes. */
    private static final int DEVICE_UUID_KHR = 0x106A;

    ClDevice(ClPlatform platform, int index, MemorySegment handle) {
        this.platform = platform;
        this.index = index;
        this.handle = handle;
        this.name = string(Cl.DEVICE_NAME, "CL_DEVICE_NAME");
        this.vendor = string(Cl.DEVICE_VENDOR, "CL_DEVICE_VENDOR");
        this.vendorId = (int) number(Cl.DEVICE_VENDOR_ID, "CL_DEVICE_VENDOR_ID", 4);
        this.type = number(Cl.DEVICE_TYPE, "CL_DEVICE_TYPE", 8);
        this.driverVersion = string(Cl.DRIVER_VERSION, "CL_DRIVER_VERSION");
        this.version = string(Cl.DEVICE_VERSION, "CL_DEVICE_VERSION");
        this.openClCVersion = string(Cl.DEVICE_OPENCL_C_VERSION, "CL_DEVICE_OPENCL_C_VERSION");
        this.extensions = new LinkedHashSet<>(Arrays.asList(
                string(Cl.DEVICE_EXTENSIONS, "CL_DEVICE_EXTENSIONS").trim().split("\\s+")));
        this.extensions.remove("");
        this.computeUnits = (int) number(Cl.DEVICE_MAX_COMPUTE_UNITS, "CL_DEVICE_MAX_COMPUTE_UNITS", 4);
        this.globalMemBytes = number(Cl.DEVICE_GLOBAL_MEM_SIZE, "CL_DEVICE_GLOBAL_MEM_SIZE", 8);
        this.localMemBytes = number(Cl.DEVICE_LOCAL_MEM_SIZE, "CL_DEVICE_LOCAL_MEM_SIZE", 8);
        this.maxWorkGroupSize = number(Cl.DEVICE_MAX_WORK_GROUP_SIZE, "CL_DEVICE_MAX_WORK_GROUP_SIZE", 8);
        this.intelIpVersion = extensions.contains("cl_intel_device_attribute_query")
                ? optionalInt(Cl.DEVICE_IP_VERSION_INTEL) : OptionalInt.empty();
        if (extensions.contains("cl_nv_device_attribute_query")) {
            OptionalInt major = optionalInt(Cl.DEVICE_COMPUTE_CAPABILITY_MAJOR_NV);
            OptionalInt minor = optionalInt(Cl.DEVICE_COMPUTE_CAPABILITY_MINOR_NV);
            this.nvComputeCapability = major.isPresent() && minor.isPresent()
                    ? OptionalInt.of(major.getAsInt() * 10 + minor.getAsInt()) : OptionalInt.empty();
        } else {
            this.nvComputeCapability = OptionalInt.empty();
        }
        this.uuid = extensions.contains("cl_khr_device_uuid") ? bytes16(DEVICE_UUID_KHR) : Optional.empty();
    }

    /** A 16-byte query the driver may not answer: hex, or empty instead of an error. */
    private Optional<String> bytes16(int param) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(16);
            int rc = PlatformCalls.getDeviceInfo(handle, param, 16, value, MemorySegment.NULL);
            return rc == 0 ? Optional.of(HexFormat.of().formatHex(value.toArray(ValueLayout.JAVA_BYTE)))
                    : Optional.empty();
        }
    }

    /**
     * @return CL_DEVICE_UUID_KHR as 32 hex digits (NVIDIA's OpenCL reports the CUDA UUID), when the
     *     device has {@code cl_khr_device_uuid}
     */
    public Optional<String> uuid() {
        return uuid;
    }

    private String call(String param) {
        return "clGetDeviceInfo(device=" + platform.index() + ":" + index + ", param=" + param + ")";
    }

    private String string(int param, String paramName) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment size = arena.allocate(ValueLayout.JAVA_LONG);
            OpenClException.check(PlatformCalls.getDeviceInfo(handle, param, 0, MemorySegment.NULL, size),
                    call(paramName));
            long n = size.get(ValueLayout.JAVA_LONG, 0);
            MemorySegment value = arena.allocate(Math.max(1, n));
            OpenClException.check(PlatformCalls.getDeviceInfo(handle, param, n, value, MemorySegment.NULL),
                    call(paramName));
            return value.getString(0).trim();
        }
    }

    private long number(int param, String paramName, int bytes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(8);
            OpenClException.check(PlatformCalls.getDeviceInfo(handle, param, bytes, value, MemorySegment.NULL),
                    call(paramName));
            return bytes == 4 ? Integer.toUnsignedLong(value.get(ValueLayout.JAVA_INT, 0))
                    : value.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    /** A vendor query the driver may not know: empty instead of an error. */
    private OptionalInt optionalInt(int param) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(8);
            int rc = PlatformCalls.getDeviceInfo(handle, param, 4, value, MemorySegment.NULL);
            return rc == 0 ? OptionalInt.of(value.get(ValueLayout.JAVA_INT, 0)) : OptionalInt.empty();
        }
    }

    /** @return {@code opencl:<platform index>:<device index>}, in the loader's unfiltered order */
    public String id() {
        return "opencl:" + platform.index() + ":" + index;
    }

    /** @return the platform */
    public ClPlatform platform() {
        return platform;
    }

    /** @return CL_DEVICE_NAME */
    public String name() {
        return name;
    }

    /** @return CL_DEVICE_VENDOR */
    public String vendor() {
        return vendor;
    }

    /** @return CL_DEVICE_VENDOR_ID (PCI vendor id for GPUs: 0x8086 Intel, 0x10de NVIDIA, 0x1002 AMD) */
    public int vendorId() {
        return vendorId;
    }

    /** @return CL_DEVICE_TYPE bits ({@link #TYPE_CPU}, {@link #TYPE_GPU}, ...) */
    public long type() {
        return type;
    }

    /** @return CL_DRIVER_VERSION */
    public String driverVersion() {
        return driverVersion;
    }

    /** @return CL_DEVICE_VERSION, e.g. {@code OpenCL 3.0 CUDA} */
    public String version() {
        return version;
    }

    /** @return CL_DEVICE_OPENCL_C_VERSION */
    public String openClCVersion() {
        return openClCVersion;
    }

    /** @return CL_DEVICE_EXTENSIONS as a set */
    public Set<String> extensions() {
        return Set.copyOf(extensions);
    }

    /**
     * @param extension e.g. {@code cl_khr_subgroups}
     * @return whether the device lists it
     */
    public boolean hasExtension(String extension) {
        return extensions.contains(extension);
    }

    /** @return CL_DEVICE_MAX_COMPUTE_UNITS */
    public int computeUnits() {
        return computeUnits;
    }

    /** @return CL_DEVICE_GLOBAL_MEM_SIZE */
    public long globalMemBytes() {
        return globalMemBytes;
    }

    /** @return CL_DEVICE_LOCAL_MEM_SIZE */
    public long localMemBytes() {
        return localMemBytes;
    }

    /** @return CL_DEVICE_MAX_WORK_GROUP_SIZE */
    public long maxWorkGroupSize() {
        return maxWorkGroupSize;
    }

    /** @return CL_DEVICE_IP_VERSION_INTEL where the driver exposes it */
    public OptionalInt intelIpVersion() {
        return intelIpVersion;
    }

    /** @return the CUDA compute capability (e.g. 90) from cl_nv_device_attribute_query, where exposed */
    public OptionalInt nvComputeCapability() {
        return nvComputeCapability;
    }

    MemorySegment handle() {
        return handle;
    }

    /** @return this device described for selection ({@link DeviceClassifier}), with its typed address and UUID */
    public DeviceInfo toDeviceInfo() {
        DeviceInfo d = DeviceClassifier.classify(new DeviceClassifier.Facts(id(), name, vendor, vendorId, type,
                platform.name(), extensions, computeUnits, globalMemBytes, localMemBytes, maxWorkGroupSize,
                intelIpVersion, nvComputeCapability));
        return new DeviceInfo(d.id(), d.vendor(), d.arch(), d.name(), d.computeUnits(), d.memoryBytes(), d.features(),
                false, new DeviceAddress.OpenCl(platform.index(), index, uuid), List.of(),
                java.util.Optional.of(platform.name() + " " + platform.version() + ", driver " + driverVersion));
    }

    @Override
    public String toString() {
        return "ClDevice[" + id() + ": " + name + ", " + version + ", driver " + driverVersion + "]";
    }
}
