package io.moeoracle.backend.flashinfer;

/**
 * What a GEMM kernel's {@code _config} companion reports (ABI.md, "GEMM kernels"), plus the occupancy
 * the driver computes for it.
 *
 * @param smem dynamic shared memory bytes ({@code o[0]})
 * @param threads threads per CTA ({@code o[1]})
 * @param m rows per tile ({@code o[2]}); must equal the M in the kernel's name
 * @param bn columns per CTA tile ({@code o[3]})
 * @param persistentPerSm CTAs per SM of a persistent launch, 0 when not persistent ({@code o[4]})
 * @param cluster thread-block cluster size, 1 = none ({@code o[5]}); compiled into the kernel
 * @param f32Intermediate GEMM1 writes the intermediate as F32 rather than BF16 ({@code o[6] == 1}; a
 *     kernel that writes six ints leaves the zero Java put there: BF16)
 * @param residentPerSm CTAs that fit on one SM at once ({@code cuOccupancyMaxActiveBlocksPerMultiprocessor})
 * @param minKPerSplit K columns GEMM2 keeps per split at least, 0 when the kernel never splits K (its family's)
 */
record FiConfig(int smem, int threads, int m, int bn, int persistentPerSm, int cluster, boolean f32Intermediate,
                int residentPerSm, int minKPerSplit) {
    /** Ints Java reads from a {@code _config} kernel (zeroed before the launch). */
    static final int INTS = 8;

    /** @return whether the kernel walks its work list itself over a grid of {@code SMs * persistentPerSm} */
    boolean persistent() {
        return persistentPerSm > 0;
    }

    /** @return N tiles of a GEMM with {@code nPad} columns */
    int nTiles(int nPad) {
        return (nPad + bn - 1) / bn;
    }
}
