package io.moeoracle.backend.xpu;

import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceAddress;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.api.spec.ActivationFormat;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.WeightFormat;
import java.util.Optional;

/** The rules of the xpu verdict; a pure function of spec, device and the anyDevice switch. */
final class XpuSupport {
    /** Local memory the kernels declare: align 2 * 2048 ints, the GEMMs WG * (BM + 1) floats. */
    static final long LOCAL_MEM_NEEDED = 16 * 1024;
    /** Work-group size of the GEMM kernels; the align kernel uses 256. */
    static final long WORK_GROUP_NEEDED = 256;

    private XpuSupport() {
    }

    static SupportVerdict judge(MoeLayerSpec spec, DeviceInfo device, boolean anyDevice) {
        if (spec.lora()) {
            return SupportVerdict.unsupported("xpu has no LoRA kernels", "use a backend with LoRA support or drop the adapters");
        }
        if (spec.activationFormat() != ActivationFormat.STANDARD) {
            return SupportVerdict.unsupported("xpu takes the standard [T, H] token layout, not "
                    + spec.activationFormat(), "use the standard activation format");
        }
        WeightFormat.Kind kind = spec.quant().weights().kind();
        if (kind != WeightFormat.Kind.MXFP4 && kind != WeightFormat.Kind.BF16) {
            return SupportVerdict.unsupported("xpu runs MXFP4 and BF16 weights, not " + spec.quant().weights(),
                    "convert the weights to mxfp4 or bf16");
        }
        ActivationType act = spec.quant().activations();
        if (act != ActivationType.AUTO && act != ActivationType.BF16) {
            return SupportVerdict.unsupported("xpu keeps activations in BF16/F32; " + act + " activations are not implemented",
                    "use --activation bf16");
        }
        if (kind == WeightFormat.Kind.BF16 && (spec.hiddenSize() % 8 != 0 || spec.intermediateSize() % 8 != 0)) {
            return SupportVerdict.unsupported("xpu's BF16 kernels read 8 values at a time: hiddenSize "
                    + spec.hiddenSize() + " and intermediateSize " + spec.intermediateSize() + " must be multiples of 8",
                    "pad the layer to a multiple of 8");
        }
        if (spec.localExperts() > XpuPrograms.ALIGN_MAX_EXPERTS) {
            return SupportVerdict.unsupported("xpu groups tokens by expert in local memory for up to "
                    + XpuPrograms.ALIGN_MAX_EXPERTS + " local experts; the spec has " + spec.localExperts(),
                    "use expert parallelism to hold at most " + XpuPrograms.ALIGN_MAX_EXPERTS + " experts per rank");
        }
        boolean intelXe = device.vendor() == Vendor.INTEL && device.arch().startsWith("xe");
        if (!intelXe && !anyDevice) {
            return SupportVerdict.unsupported("xpu targets Intel Xe GPUs; " + device.describe() + " is "
                    + device.vendor().device() + (device.vendor() == Vendor.INTEL ? " but not an Xe one" : ""),
                    "set -D" + XpuSettings.ANY_DEVICE.name() + "=true to run the OpenCL kernels on any OpenCL device");
        }
        if (!device.simulated() && device.address(DeviceAddress.OpenCl.class).isEmpty()) {
            return SupportVerdict.unsupported("xpu runs through OpenCL; device " + device.id()
                    + " has no OpenCL address (the OpenCL probe did not report it)",
                    "pick the same device's opencl:P:D entry (moe-oracle devices)");
        }
        Optional<Long> local = feature(device, "local_mem_bytes:");
        if (local.isPresent() && local.get() < LOCAL_MEM_NEEDED) {
            return SupportVerdict.unsupported("xpu needs " + LOCAL_MEM_NEEDED + " bytes of local memory; device "
                    + device.id() + " has " + local.get(), "use a device with more local memory");
        }
        Optional<Long> wg = feature(device, "max_work_group_size:");
        if (wg.isPresent() && wg.get() < WORK_GROUP_NEEDED) {
            return SupportVerdict.unsupported("xpu needs work-groups of " + WORK_GROUP_NEEDED + " work-items; device "
                    + device.id() + " allows " + wg.get(), "use a device with larger work-groups");
        }
        String how = subgroups(device) ? "sub-group reductions (" + subgroupExtension(device) + ")"
                : "portable local-memory reductions";
        return SupportVerdict.supported("OpenCL C kernels, " + spec.quant().weights() + " weights decoded in the kernel, "
                + how + (intelXe ? "" : "; " + XpuSettings.ANY_DEVICE.name() + "=true lets it run on "
                + device.vendor().device()));
    }

    static boolean subgroups(DeviceInfo device) {
        return device.hasFeature("cl_intel_subgroups") || device.hasFeature("cl_khr_subgroups");
    }

    static String subgroupExtension(DeviceInfo device) {
        return device.hasFeature("cl_intel_subgroups") ? "cl_intel_subgroups" : "cl_khr_subgroups";
    }

    private static Optional<Long> feature(DeviceInfo device, String prefix) {
        for (String f : device.features()) {
            if (f.startsWith(prefix)) {
                try {
                    return Optional.of(Long.parseLong(f.substring(prefix.length())));
                } catch (NumberFormatException e) {
                    return Optional.empty();
                }
            }
        }
        return Optional.empty();
    }
}
