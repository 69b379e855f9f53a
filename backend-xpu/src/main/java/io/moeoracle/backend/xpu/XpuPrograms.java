package io.moeoracle.backend.xpu;

import io.moeoracle.driver.opencl.ClContext;
import io.moeoracle.driver.opencl.ClDevice;
import io.moeoracle.driver.opencl.ClKernel;
import io.moeoracle.driver.opencl.ClProgram;
import io.moeoracle.driver.opencl.LargeStack;
import io.moeoracle.driver.opencl.ProgramBuildException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The kernels of {@code moe.cl} (shipped in the jar) built for one context: the source is built at
 * run time by the device's OpenCL compiler, through the driver's on-disk binary cache.
 */
final class XpuPrograms implements AutoCloseable {
    static final String SOURCE_RESOURCE = "moe.cl";
    /** Must match the #defines of moe.cl. */
    static final int BM = 8;
    static final int NPW = 8;
    static final int WG = 128;
    static final int ALIGN_WG = 256;
    static final int ALIGN_MAX_EXPERTS = 2048;

    private static final Logger LOG = LoggerFactory.getLogger(XpuPrograms.class);

    final KernelPath path;
    final String options;
    final ClKernel route;
    final ClKernel align;
    final ClKernel gemm1Mxfp4;
    final ClKernel gemm1Bf16;
    final ClKernel gemm2Mxfp4;
    final ClKernel gemm2Bf16;
    final ClKernel combine;
    final ClKernel bf16ToF32;

    /** Takes the program's kernels and releases the program (its kernels stay valid; kept, it leaked per kernel). */
    private XpuPrograms(KernelPath path, String options, ClProgram program) {
        this.path = path;
        this.options = options;
        try (program) {
            this.route = program.kernel("moe_route");
            this.align = program.kernel("moe_align");
            this.gemm1Mxfp4 = program.kernel("moe_gemm1_mxfp4");
            this.gemm1Bf16 = program.kernel("moe_gemm1_bf16");
            this.gemm2Mxfp4 = program.kernel("moe_gemm2_mxfp4");
            this.gemm2Bf16 = program.kernel("moe_gemm2_bf16");
            this.combine = program.kernel("moe_combine");
            this.bf16ToF32 = program.kernel("moe_bf16_to_f32");
        }
    }

    static String source() {
        try (InputStream in = XpuPrograms.class.getResourceAsStream(SOURCE_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the kernel source " + SOURCE_RESOURCE
                        + " is missing from the moe-oracle-backend-xpu jar; rebuild the module");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the kernel source " + SOURCE_RESOURCE, e);
        }
    }

    /**
     * @param device the device
     * @param requested {@code auto}, {@code subgroup} or {@code portable}
     * @return the variant to build
     */
    static KernelPath choosePath(ClDevice device, String requested) {
        boolean sg = device.hasExtension("cl_intel_subgroups") || device.hasExtension("cl_khr_subgroups");
        return switch (requested) {
            case "portable" -> KernelPath.PORTABLE;
            case "subgroup" -> sg ? KernelPath.SUBGROUP : KernelPath.SUBGROUP_EMULATED;
            default -> sg ? KernelPath.SUBGROUP : KernelPath.PORTABLE;
        };
    }

    static String options(ClDevice device, KernelPath path, boolean blockReads) {
        StringBuilder o = new StringBuilder();
        boolean intel = device.hasExtension("cl_intel_subgroups");
        String cVersion = device.openClCVersion();
        // cl_khr_subgroups' built-ins are declared for OpenCL C 2.0+; Intel's extension works with 1.2
        boolean c2 = cVersion.contains("C 2.") || cVersion.contains("C 3.");
        o.append(path == KernelPath.SUBGROUP && !intel && c2 ? "-cl-std=CL2.0" : "-cl-std=CL1.2");
        o.append(" -DXPU_PATH=").append(path.define());
        if (path == KernelPath.SUBGROUP && intel) {
            o.append(" -DXPU_INTEL_SUBGROUPS");
            if (blockReads) {
                o.append(" -DXPU_BLOCK_READS");
            }
        }
        return o.toString();
    }

    /**
     * Builds the kernels; an automatic sub-group choice that fails to build falls back to the
     * portable path (logged with the build log), a forced one throws.
     */
    static XpuPrograms build(ClContext ctx, String source, KernelPath path, boolean forced, boolean blockReads) {
        // kernels are created on the compiler's thread too: some drivers finish compiling lazily there
        return LargeStack.call("xpu-build-" + ctx.device().id(), () -> buildHere(ctx, source, path, forced, blockReads));
    }

    private static XpuPrograms buildHere(ClContext ctx, String source, KernelPath path, boolean forced,
                                         boolean blockReads) {
        String options = options(ctx.device(), path, blockReads);
        try {
            return new XpuPrograms(path, options, ctx.buildProgram(source, options));
        } catch (ProgramBuildException e) {
            if (path != KernelPath.SUBGROUP || forced) {
                throw e;
            }
            LOG.warn("xpu: the sub-group kernels failed to build on {} ({}); falling back to the portable path."
                    + " Build log:\n{}", ctx.device().name(), options, e.buildLog());
            String portable = options(ctx.device(), KernelPath.PORTABLE, blockReads);
            return new XpuPrograms(KernelPath.PORTABLE, portable, ctx.buildProgram(source, portable));
        }
    }

    @Override
    public void close() {
        for (ClKernel k : new ClKernel[] {route, align, gemm1Mxfp4, gemm1Bf16, gemm2Mxfp4, gemm2Bf16, combine, bf16ToF32}) {
            k.close();
        }
    }
}
