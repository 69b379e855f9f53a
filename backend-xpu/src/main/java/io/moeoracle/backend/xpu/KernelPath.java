package io.moeoracle.backend.xpu;

/** Which variant of the GEMM kernels runs: chosen from the device's extensions, or forced by {@code moe.xpu.path}. */
public enum KernelPath {
    /** Real sub-groups ({@code cl_intel_subgroups} or {@code cl_khr_subgroups}): {@code sub_group_reduce_add}. */
    SUBGROUP(1),
    /**
     * The sub-group kernel structure with its collectives emulated in local memory (one sub-group =
     * the work-group); what {@code moe.xpu.path=subgroup} gives on a device without sub-groups, so that
     * path's indexing is tested on PoCL too.
     */
    SUBGROUP_EMULATED(2),
    /** Virtual sub-groups of 16 lanes reduced through local memory: any OpenCL 1.2 device. */
    PORTABLE(0);

    private final int define;

    KernelPath(int define) {
        this.define = define;
    }

    /** @return the value of {@code -DXPU_PATH} */
    int define() {
        return define;
    }
}
