package io.moeoracle.driver.opencl;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns an OpenCL device's properties into a {@link DeviceInfo}, truthfully: Intel GPUs get an
 * {@code xe-*} arch (from CL_DEVICE_IP_VERSION_INTEL where exposed, else from the name), NVIDIA GPUs
 * their {@code sm_XY} (from cl_nv_device_attribute_query), AMD GPUs their {@code gfxNNN} name, CPUs
 * {@code opencl-cpu-<runtime>}. Pure: no native calls, so every branch is unit-tested.
 */
public final class DeviceClassifier {
    /** Feature prefix carrying CL_DEVICE_LOCAL_MEM_SIZE, e.g. {@code local_mem_bytes:65536}. */
    public static final String LOCAL_MEM_FEATURE = "local_mem_bytes:";
    /** Feature prefix carrying CL_DEVICE_MAX_WORK_GROUP_SIZE. */
    public static final String MAX_WORK_GROUP_FEATURE = "max_work_group_size:";
    /** Feature marking a device found through OpenCL. */
    public static final String OPENCL_FEATURE = "opencl";

    private static final int PCI_INTEL = 0x8086;
    private static final int PCI_NVIDIA = 0x10DE;
    private static final int PCI_AMD = 0x1002;
    private static final Pattern GFX = Pattern.compile("gfx[0-9a-f]{3,4}");

    private DeviceClassifier() {
    }

    /**
     * What the driver said about a device.
     *
     * @param id {@code opencl:P:D}
     * @param name CL_DEVICE_NAME
     * @param vendor CL_DEVICE_VENDOR
     * @param vendorId CL_DEVICE_VENDOR_ID
     * @param type CL_DEVICE_TYPE bits
     * @param platformName CL_PLATFORM_NAME
     * @param extensions CL_DEVICE_EXTENSIONS
     * @param computeUnits CL_DEVICE_MAX_COMPUTE_UNITS
     * @param globalMemBytes CL_DEVICE_GLOBAL_MEM_SIZE
     * @param localMemBytes CL_DEVICE_LOCAL_MEM_SIZE
     * @param maxWorkGroupSize CL_DEVICE_MAX_WORK_GROUP_SIZE
     * @param intelIpVersion CL_DEVICE_IP_VERSION_INTEL, where exposed
     * @param nvComputeCapability major*10+minor, where exposed
     */
    public record Facts(String id, String name, String vendor, int vendorId, long type, String platformName,
                        Set<String> extensions, int computeUnits, long globalMemBytes, long localMemBytes,
                        long maxWorkGroupSize, OptionalInt intelIpVersion, OptionalInt nvComputeCapability) {
        /** Copies the extension set. */
        public Facts {
            extensions = Set.copyOf(extensions);
        }
    }

    /**
     * @param f the driver's facts
     * @return the device description
     */
    public static DeviceInfo classify(Facts f) {
        String lowerName = f.name().toLowerCase(Locale.ROOT);
        String lowerVendor = f.vendor().toLowerCase(Locale.ROOT);
        boolean gpu = (f.type() & ClDevice.TYPE_GPU) != 0;
        boolean cpu = (f.type() & ClDevice.TYPE_CPU) != 0;
        Vendor vendor;
        String arch;
        if (cpu) {
            vendor = Vendor.CPU;
            arch = "opencl-cpu-" + cpuRuntime(f.platformName(), lowerVendor);
        } else if (gpu && (f.vendorId() == PCI_INTEL || lowerVendor.contains("intel"))) {
            vendor = Vendor.INTEL;
            arch = intelArch(lowerName, f.intelIpVersion());
        } else if (gpu && (f.vendorId() == PCI_NVIDIA || lowerVendor.contains("nvidia"))) {
            vendor = Vendor.NVIDIA;
            arch = f.nvComputeCapability().isPresent() ? "sm_" + f.nvComputeCapability().getAsInt() : "opencl-nvidia";
        } else if (gpu && (f.vendorId() == PCI_AMD || lowerVendor.contains("advanced micro devices")
                || lowerVendor.contains("amd"))) {
            vendor = Vendor.AMD;
            Matcher m = GFX.matcher(lowerName);
            arch = m.find() ? m.group() : "opencl-amd";
        } else {
            vendor = Vendor.OTHER;
            arch = gpu ? "opencl-gpu" : (f.type() & ClDevice.TYPE_ACCELERATOR) != 0 ? "opencl-accelerator" : "opencl-device";
        }
        Set<String> features = new LinkedHashSet<>(f.extensions());
        features.add(OPENCL_FEATURE);
        features.add(LOCAL_MEM_FEATURE + f.localMemBytes());
        features.add(MAX_WORK_GROUP_FEATURE + f.maxWorkGroupSize());
        return new DeviceInfo(f.id(), vendor, arch, f.name(), f.computeUnits(), f.globalMemBytes(), features, false);
    }

    /**
     * Maps an Intel GPU to its Xe generation. IP versions use CL_MAKE_VERSION (major 10 bits, minor 10,
     * patch 12): 12.0-12.10 Xe-LP, 12.55-12.57 Xe-HPG (Arc A, Flex), 12.60+ Xe-HPC (Max), 12.70+ Xe-LPG,
     * 20.1 Xe2-HPG (Arc B), 20.4 Xe2-LPG, 30.x Xe3.
     *
     * @param lowerName the device name, lower case
     * @param ipVersion CL_DEVICE_IP_VERSION_INTEL, where exposed
     * @return an arch such as {@code xe-hpc}; {@code intel-gen<N>} for pre-Xe parts
     */
    static String intelArch(String lowerName, OptionalInt ipVersion) {
        if (ipVersion.isPresent() && ipVersion.getAsInt() != 0) {
            int v = ipVersion.getAsInt();
            int major = v >>> 22;
            int minor = (v >>> 12) & 0x3FF;
            if (major == 12) {
                if (minor >= 70) {
                    return "xe-lpg";
                }
                if (minor >= 60) {
                    return "xe-hpc";
                }
                if (minor >= 50) {
                    return "xe-hpg";
                }
                return "xe-lp";
            }
            if (major == 20) {
                return minor >= 4 ? "xe2-lpg" : "xe2-hpg";
            }
            if (major >= 30) {
                return "xe3";
            }
            if (major > 0 && major < 12) {
                return "intel-gen" + major;
            }
        }
        if (lowerName.contains("data center gpu max") || lowerName.contains("ponte vecchio")) {
            return "xe-hpc";
        }
        if (lowerName.contains("arc") && lowerName.matches(".*\\bb\\d{3}\\b.*")) {
            return "xe2-hpg";
        }
        if (lowerName.contains("arc") || lowerName.contains("data center gpu flex")) {
            return "xe-hpg";
        }
        if (lowerName.contains("iris(r) xe") || lowerName.contains("iris xe") || lowerName.contains("xe graphics")) {
            return "xe-lp";
        }
        return "intel-gpu";
    }

    private static String cpuRuntime(String platformName, String lowerVendor) {
        String p = platformName.toLowerCase(Locale.ROOT);
        if (p.contains("portable computing language") || p.contains("pocl")) {
            return "pocl";
        }
        if (p.contains("intel") || lowerVendor.contains("intel")) {
            return "intel";
        }
        return "generic";
    }
}
