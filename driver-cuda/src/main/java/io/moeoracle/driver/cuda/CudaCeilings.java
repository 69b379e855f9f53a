package io.moeoracle.driver.cuda;

import io.moeoracle.api.RooflineProbe;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.SplittableRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Measures a CUDA device's two ceilings, for roofline floors measured in the same run:
 * <ul>
 *   <li>copy bandwidth: {@code cuMemcpyDtoDAsync} of 1 GiB between two buffers, timed with events,
 *       bytes read plus bytes written over the time, best of 10 after 2 warm-ups (median kept too);</li>
 *   <li>BF16 matmul rate: {@code cublasGemmEx} 8192³, BF16 in and out, FP32 accumulation, on random
 *       data, {@code 2·M·N·K} over the event time, best of 10 after 3 warm-ups; NaN when cuBLAS
 *       cannot be opened (the reason is in the method line);</li>
 *   <li>FP8 matmul rate (for kernels with FP8 / MXFP8 activations): {@code cublasLtMatmul} 8192³, E4M3
 *       in ("TN"), BF16 out, FP32 accumulation, on random data, with and without cuBLASLt's fast
 *       accumulation, best of 10 each after 3 warm-ups; the better mode is the ceiling. NaN where
 *       cuBLASLt is missing or the device has no FP8 tensor cores (before sm_89).</li>
 * </ul>
 * Takes about three seconds and 3.4 GiB of device memory.
 */
public final class CudaCeilings {
    private static final Logger LOG = LoggerFactory.getLogger(CudaCeilings.class);

    private CudaCeilings() {
    }

    /**
     * Everything measured.
     *
     * @param device the device's name and arch
     * @param copyBytes bytes copied per repetition (each read and written once)
     * @param bandwidthBest best bytes read+written per second
     * @param bandwidthMedian median of the same
     * @param gemmSize M = N = K of the matmul
     * @param flopsBest best flop/s, NaN without cuBLAS
     * @param flopsMedian median flop/s, NaN without cuBLAS
     * @param cublas the cuBLAS version and file, or why it is absent
     * @param fp8Best best FP8 flop/s over both accumulation modes, NaN when not measured
     * @param fp8Median median flop/s of the better mode, NaN when not measured
     * @param fp8FastAccum whether the better mode was fast accumulation
     * @param fp8Precise best FP8 flop/s without fast accumulation, NaN when not measured
     * @param cublasLt the cuBLASLt version and file, or why the FP8 rate was not measured
     */
    public record Measurement(String device, long copyBytes, double bandwidthBest, double bandwidthMedian,
                              int gemmSize, double flopsBest, double flopsMedian, String cublas,
                              double fp8Best, double fp8Median, boolean fp8FastAccum, double fp8Precise,
                              String cublasLt) {

        /** @return the api's ceilings: best values, with how they were measured */
        public RooflineProbe.Ceilings toCeilings() {
            String bw = String.format(Locale.ROOT, "cuMemcpyDtoDAsync of %d MiB timed with CUDA events, bytes read+written,"
                    + " best of 10 (median %.0f GB/s) on %s", copyBytes >> 20, bandwidthMedian / 1e9, device);
            String fl = Double.isNaN(flopsBest)
                    ? "not measured: " + cublas
                    : String.format(Locale.ROOT, "cublasGemmEx %d^3 BF16 in/out, FP32 accumulate, random data, CUDA events,"
                            + " best of 10 (median %.0f TFLOP/s), %s on %s", gemmSize, flopsMedian / 1e12, cublas, device);
            String f8 = Double.isNaN(fp8Best)
                    ? "not measured: " + cublasLt
                    : String.format(Locale.ROOT, "cublasLtMatmul %d^3 E4M3 TN, BF16 out, FP32 accumulate, random data,"
                            + " CUDA events, best of 10 (median %.0f TFLOP/s) with%s fast accumulation (%.0f TFLOP/s"
                            + " without), %s on %s", gemmSize, fp8Median / 1e12, fp8FastAccum ? "" : "out",
                            fp8Precise / 1e12, cublasLt, device);
            return new RooflineProbe.Ceilings(bandwidthBest, flopsBest, bw, fl, fp8Best, f8);
        }
    }

    /**
     * Measures both ceilings of the context's device; the context is made current on this thread.
     *
     * @param context the context
     * @return the ceilings (best values)
     */
    public static RooflineProbe.Ceilings measure(CudaContext context) {
        return measureDetailed(context).toCeilings();
    }

    /**
     * As {@link #measure(CudaContext)}, with medians and versions.
     *
     * @param context the context
     * @return what was measured
     */
    public static Measurement measureDetailed(CudaContext context) {
        context.ensureCurrent();
        String device = context.device().name() + " (" + context.device().arch() + ")";
        long copyBytes = 1L << 30;
        double[] bw = copyBandwidth(context, copyBytes, 10);
        int size = 8192;
        Optional<String> missing = CublasBf16Gemm.unavailability();
        double[] fl = missing.isPresent() ? new double[] {Double.NaN, Double.NaN} : gemmRate(context, size, 10);
        String cublas = missing.orElseGet(() -> {
            try (CudaStream s = context.createStream(); CublasBf16Gemm g = CublasBf16Gemm.create(s)) {
                return g.version() + " (" + g.library() + ")";
            }
        });
        Optional<String> noFp8 = context.device().computeCapability() < 89
                ? Optional.of("no FP8 tensor cores before sm_89 (this is " + context.device().arch() + ")")
                : CublasLtFp8Gemm.unavailability();
        double[] fast = noFp8.isPresent() ? new double[] {Double.NaN, Double.NaN} : fp8Rate(context, size, 10, true);
        double[] precise = noFp8.isPresent() ? new double[] {Double.NaN, Double.NaN} : fp8Rate(context, size, 10, false);
        boolean fastWins = !(precise[0] > fast[0]);
        double[] f8 = fastWins ? fast : precise;
        String lt = noFp8.orElseGet(() -> CublasLtFp8Gemm.version() + " (" + CublasLtFp8Gemm.library() + ")");
        Measurement m = new Measurement(device, copyBytes, bw[0], bw[1], size, fl[0], fl[1], cublas, f8[0], f8[1],
                fastWins, precise[0], lt);
        LOG.info("ceilings of {}: copy {} GB/s (median {}), BF16 matmul {} TFLOP/s (median {}), FP8 matmul {} TFLOP/s"
                + " (median {})", device, fmt(bw[0] / 1e9), fmt(bw[1] / 1e9), fmt(fl[0] / 1e12), fmt(fl[1] / 1e12),
                fmt(f8[0] / 1e12), fmt(f8[1] / 1e12));
        return m;
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    /** @return {best, median} bytes/s */
    static double[] copyBandwidth(CudaContext context, long bytes, int reps) {
        try (DeviceBuffer src = context.allocate(bytes); DeviceBuffer dst = context.allocate(bytes);
             CudaStream stream = context.createStream();
             CudaEvent start = context.createEvent(); CudaEvent end = context.createEvent()) {
            src.fillIntAsync(0x3F8CCCCD, stream);
            double[] rates = new double[reps];
            for (int i = -2; i < reps; i++) {
                start.record(stream);
                dst.copyFromAsync(src, stream);
                end.record(stream);
                float ms = end.millisSince(start);
                if (i >= 0) {
                    rates[i] = 2.0 * bytes / (ms * 1e-3);
                }
            }
            return bestAndMedian(rates);
        }
    }

    /** @return {best, median} flop/s */
    static double[] gemmRate(CudaContext context, int n, int reps) {
        long elems = (long) n * n;
        long bytes = elems * 2;
        try (DeviceBuffer a = context.allocate(bytes); DeviceBuffer b = context.allocate(bytes);
             DeviceBuffer c = context.allocate(bytes);
             CudaStream stream = context.createStream();
             CudaEvent start = context.createEvent(); CudaEvent end = context.createEvent();
             CublasBf16Gemm gemm = CublasBf16Gemm.create(stream)) {
            fillRandomBf16(a, new SplittableRandom());
            fillRandomBf16(b, new SplittableRandom());
            double flops = 2.0 * n * n * n;
            double[] rates = new double[reps];
            for (int i = -3; i < reps; i++) {
                start.record(stream);
                gemm.gemm(a, b, c, n, n, n);
                end.record(stream);
                float ms = end.millisSince(start);
                if (i >= 0) {
                    rates[i] = flops / (ms * 1e-3);
                }
            }
            return bestAndMedian(rates);
        }
    }

    /** @return {best, median} flop/s of the FP8 matmul */
    static double[] fp8Rate(CudaContext context, int n, int reps, boolean fastAccum) {
        long bytes = (long) n * n;
        try (DeviceBuffer a = context.allocate(bytes); DeviceBuffer b = context.allocate(bytes);
             DeviceBuffer d = context.allocate(2 * bytes);
             CudaStream stream = context.createStream();
             CudaEvent start = context.createEvent(); CudaEvent end = context.createEvent();
             CublasLtFp8Gemm gemm = new CublasLtFp8Gemm(context, stream, n, n, n, fastAccum)) {
            fillRandomE4m3(a, new SplittableRandom());
            fillRandomE4m3(b, new SplittableRandom());
            double flops = 2.0 * n * n * n;
            double[] rates = new double[reps];
            for (int i = -3; i < reps; i++) {
                start.record(stream);
                gemm.gemm(a, b, d);
                end.record(stream);
                float ms = end.millisSince(start);
                if (i >= 0) {
                    rates[i] = flops / (ms * 1e-3);
                }
            }
            return bestAndMedian(rates);
        }
    }

    // random E4M3 codes of magnitude below 2 (exponent field at most 7: never NaN), both signs
    private static void fillRandomE4m3(DeviceBuffer buffer, SplittableRandom rnd) {
        long block = Math.min(buffer.byteSize(), 16L << 20);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(block, 64);
            for (long i = 0; i < block; i++) {
                host.set(ValueLayout.JAVA_BYTE, i, (byte) (rnd.nextInt(256) & 0xBF));
            }
            for (long off = 0; off < buffer.byteSize(); off += block) {
                long n = Math.min(block, buffer.byteSize() - off);
                buffer.copyFromHost(host.asSlice(0, n), off);
            }
        }
    }

    // random BF16 values in about ±1: a 16 MiB random block, repeated over the buffer
    private static void fillRandomBf16(DeviceBuffer buffer, SplittableRandom rnd) {
        long block = Math.min(buffer.byteSize(), 16L << 20);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(block, 64);
            for (long i = 0; i < block / 2; i++) {
                float v = (float) (rnd.nextDouble() * 2 - 1);
                host.setAtIndex(ValueLayout.JAVA_SHORT, i, (short) (Float.floatToRawIntBits(v) >>> 16));
            }
            for (long off = 0; off < buffer.byteSize(); off += block) {
                long n = Math.min(block, buffer.byteSize() - off);
                buffer.copyFromHost(host.asSlice(0, n), off);
            }
        }
    }

    private static double[] bestAndMedian(double[] rates) {
        double[] sorted = rates.clone();
        Arrays.sort(sorted);
        return new double[] {sorted[sorted.length - 1], sorted[sorted.length / 2]};
    }
}
