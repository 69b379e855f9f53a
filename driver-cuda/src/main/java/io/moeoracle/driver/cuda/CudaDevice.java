package io.moeoracle.driver.cuda;

import io.moeoracle.api.device.DeviceAddress;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.driver.cuda.ffi.CuDevice;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** One CUDA device (a {@code CUdevice}), obtained from {@link CudaDriver#device(int)}. */
public final class CudaDevice {
    private final int ordinal;
    private final int handle;

    CudaDevice(int ordinal, int handle) {
        this.ordinal = ordinal;
        this.handle = handle;
    }

    /** @return the ordinal, as in {@code cuda:N} */
    public int ordinal() {
        return ordinal;
    }

    /** @return the driver's {@code CUdevice} handle */
    public int handle() {
        return handle;
    }

    /** @return the id {@code cuda:N} */
    public String id() {
        return "cuda:" + ordinal;
    }

    /** @return the driver's name, e.g. {@code NVIDIA H100 80GB HBM3} */
    public String name() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(256);
            Out.check(CuDevice.cuDeviceGetName(buf, 256, handle), "cuDeviceGetName", () -> "len=256, dev=" + ordinal);
            return buf.getString(0);
        }
    }

    /**
     * @param attribute which
     * @return its value
     */
    public int attribute(DeviceAttribute attribute) {
        return Out.intValue("cuDeviceGetAttribute", () -> "attrib=" + attribute + " (" + attribute.code() + "), dev=" + ordinal,
                out -> CuDevice.cuDeviceGetAttribute(out, attribute.code(), handle));
    }

    /** @return the compute capability as {@code 10*major+minor}, e.g. 90 */
    public int computeCapability() {
        return 10 * attribute(DeviceAttribute.COMPUTE_CAPABILITY_MAJOR) + attribute(DeviceAttribute.COMPUTE_CAPABILITY_MINOR);
    }

    /** @return {@code sm_XY}, e.g. {@code sm_90} */
    public String arch() {
        return "sm_" + computeCapability();
    }

    /** @return the number of SMs */
    public int multiprocessorCount() {
        return attribute(DeviceAttribute.MULTIPROCESSOR_COUNT);
    }

    /** @return the opt-in shared memory limit of one block, in bytes */
    public int maxSharedMemoryPerBlockOptin() {
        return attribute(DeviceAttribute.MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
    }

    /** @return the device memory in bytes */
    public long totalMemory() {
        return Out.longValue("cuDeviceTotalMem_v2", () -> "dev=" + ordinal, out -> CuDevice.cuDeviceTotalMem(out, handle));
    }

    /**
     * Retains the device's primary context (the one the CUDA runtime and libraries such as cuBLAS
     * share). Close the returned context to release it.
     *
     * @return the retained context, not yet current on any thread
     */
    public CudaContext retainPrimaryContext() {
        return CudaContext.retainPrimary(this);
    }

    /**
     * Feature flags from the compute capability: {@code bf16} (sm_80+), {@code fp8} (sm_89+),
     * {@code tma} (sm_90+), {@code wgmma} (sm_90 exactly: the sm_90a instructions),
     * {@code fp4} (sm_100+), plus {@code cp_async} and {@code tf32} (sm_80+).
     *
     * @param cc the compute capability as {@code 10*major+minor}
     * @return the flags
     */
    public static Set<String> featuresOf(int cc) {
        Set<String> f = new LinkedHashSet<>();
        f.add("fp16");
        if (cc >= 80) {
            f.add("bf16");
            f.add("tf32");
            f.add("cp_async");
        }
        if (cc >= 89) {
            f.add("fp8");
        }
        if (cc >= 90) {
            f.add("tma");
            f.add("clusters");
        }
        if (cc >= 90 && cc < 100) {
            f.add("wgmma");
        }
        if (cc >= 100) {
            f.add("fp4");
        }
        return f;
    }

    /**
     * The device's UUID ({@code cuDeviceGetUuid}), the same one NVIDIA's OpenCL reports as
     * {@code CL_DEVICE_UUID_KHR}: how one GPU seen through both drivers is recognised.
     *
     * @return 32 lower-case hex digits, or empty when the driver cannot tell
     */
    public Optional<String> uuid() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(16);
            if (CuDevice.cuDeviceGetUuid(buf, handle) != 0) {
                return Optional.empty();
            }
            return Optional.of(HexFormat.of().formatHex(buf.toArray(ValueLayout.JAVA_BYTE)));
        } catch (RuntimeException | LinkageError e) {
            return Optional.empty(); // an old driver without the symbol: no alias, nothing else changes
        }
    }

    /** @return the api's description of this device, with its typed address and UUID */
    public DeviceInfo toDeviceInfo() {
        int cc = computeCapability();
        return new DeviceInfo(id(), Vendor.NVIDIA, "sm_" + cc, name(), multiprocessorCount(), totalMemory(),
                featuresOf(cc), false, new DeviceAddress.Cuda(ordinal, uuid()), List.of(),
                Optional.of(CudaDriver.load().versionDescription()));
    }

    @Override
    public String toString() {
        return "CudaDevice[" + id() + "]";
    }
}
