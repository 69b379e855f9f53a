package io.moeoracle.api;

import java.util.Optional;

/**
 * The priority scale of {@link MoeKernelProvider#priority}: four documented bands, each with a named
 * constant for "an ordinary member of this band". Higher runs first.
 *
 * <table>
 *   <caption>The bands</caption>
 *   <tr><th>band</th><th>range</th><th>constant</th><th>for</th><th>in-tree</th></tr>
 *   <tr><td>{@link Band#REFERENCE}</td><td>-1000..-1</td><td>{@link #REFERENCE} (-1000)</td>
 *       <td>reference and emulation code on the host, for checking, never for speed</td>
 *       <td>{@code emulation}</td></tr>
 *   <tr><td>{@link Band#PORTABLE}</td><td>0..99</td><td>{@link #PORTABLE} (50)</td>
 *       <td>portable kernels (OpenCL C, plain C) on a device they were not tuned for</td>
 *       <td>{@code xpu} (50 on Intel Xe, {@link #PORTABLE_ELSEWHERE} elsewhere)</td></tr>
 *   <tr><td>{@link Band#VENDOR_TUNED}</td><td>100..299</td><td>{@link #VENDOR_TUNED} (200)</td>
 *       <td>kernels written for this vendor's hardware (tensor cores, AVX-512)</td>
 *       <td>{@code marlin}, {@code batched-marlin} (200), {@code flashinfer-bf16} and {@code flashinfer-mxfp8}
 *       (190 where not measured ahead of marlin), {@code triton} (150), {@code triton-unfused} (140), {@code cpu}
 *       (100)</td></tr>
 *   <tr><td>{@link Band#PREFERRED}</td><td>300..999</td><td>{@link #PREFERRED} (300)</td>
 *       <td>the kernel measured best for this scheme on this device family</td>
 *       <td>{@code aiter}, {@code aiter-fp8} (on gfx942/gfx950); {@code triton} and {@code flashinfer-bf16} (with
 *       {@code flashinfer-mxfp8} beside it) only where measured ahead of marlin</td></tr>
 * </table>
 *
 * <p><b>Ties.</b> Providers are compared only when both support the layer. At equal priority, when
 * the spec leaves the activation type to {@code AUTO}, a provider that keeps BF16 activations comes
 * before one that quantizes them ({@link MoeKernelProvider#activationType}); then ids are compared
 * as strings ({@link String#compareTo}, so {@code "a-backend"} before {@code "b-backend"}). The
 * order never depends on discovery order or hash order.
 *
 * <p><b>Not stealing the default.</b> A new backend declares {@link #VENDOR_TUNED} or lower unless
 * it has been measured faster than the in-tree backend of that band on that device and scheme; it
 * declares its band only for the devices it was written for (a lower one, or
 * {@link #PORTABLE_ELSEWHERE}, on the others); a host-side provider ({@link
 * MoeKernelProvider#runsOnHost()}) stays in {@link Band#REFERENCE}. Users reorder with
 * {@code moe.priority} without any backend changing its number.
 */
public final class Priority {
    /** Reference and emulation code on the host (band {@link Band#REFERENCE}). */
    public static final int REFERENCE = -1000;
    /** A portable kernel on a device family it targets (band {@link Band#PORTABLE}). */
    public static final int PORTABLE = 50;
    /** A portable kernel on any other device it can run on: the floor of the scale's useful part. */
    public static final int PORTABLE_ELSEWHERE = 1;
    /** The lowest vendor-tuned priority: the host CPU's native kernels ({@code cpu}). */
    public static final int VENDOR_TUNED_BASELINE = 100;
    /** Kernels written for this vendor's hardware (band {@link Band#VENDOR_TUNED}). */
    public static final int VENDOR_TUNED = 200;
    /** The kernel measured best for this scheme and device family (band {@link Band#PREFERRED}). */
    public static final int PREFERRED = 300;

    private Priority() {
    }

    /** A documented range of priorities; every priority a provider declares lies in one. */
    public enum Band {
        /** Reference and emulation code on the host: {@code -1000..-1}. */
        REFERENCE(-1000, -1),
        /** Portable kernels: {@code 0..99}. */
        PORTABLE(0, 99),
        /** Vendor-tuned kernels: {@code 100..299}. */
        VENDOR_TUNED(100, 299),
        /** The measured best for a device family: {@code 300..999}. */
        PREFERRED(300, 999);

        private final int min;
        private final int max;

        Band(int min, int max) {
            this.min = min;
            this.max = max;
        }

        /** @return the lowest priority in the band */
        public int min() {
            return min;
        }

        /** @return the highest priority in the band */
        public int max() {
            return max;
        }

        /**
         * @param priority a priority
         * @return whether it lies in this band
         */
        public boolean contains(int priority) {
            return priority >= min && priority <= max;
        }
    }

    /**
     * @param priority a declared priority
     * @return its band, or empty when it lies outside every band ({@code < -1000} or {@code > 999})
     */
    public static Optional<Band> bandOf(int priority) {
        for (Band b : Band.values()) {
            if (b.contains(priority)) {
                return Optional.of(b);
            }
        }
        return Optional.empty();
    }
}
