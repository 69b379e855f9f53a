package io.moeoracle.reference;

import io.moeoracle.api.quant.Bf16;
import io.moeoracle.api.quant.Mxfp4;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.WeightFormat;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.LoraAdapter;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Seeded random layers and inputs, so every test and benchmark runs without a download. The same
 * seed gives the same bytes on every machine and thread count.
 *
 * <p>Magnitudes: MXFP4 nibbles are uniform over all 16 codes, E8M0 scales uniform over codes
 * 120..123 ({@code 2^-7..2^-4}); BF16 weights are those same MXFP4 values (so both formats see
 * one distribution); biases are N(0, 0.05) in BF16; hidden states and router logits are N(0, 1).
 */
public final class RandomMoe {
    /** The smallest E8M0 code of random scales ({@code 2^-7}). */
    public static final int MIN_SCALE_CODE = 120;
    /** The largest E8M0 code of random scales ({@code 2^-4}). */
    public static final int MAX_SCALE_CODE = 123;
    /** Standard deviation of random biases. */
    public static final double BIAS_STD = 0.05;

    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;

    private RandomMoe() {
    }

    /**
     * Random canonical weights for this rank's experts ({@code spec.localExperts()}), MXFP4 or BF16.
     *
     * @param spec the layer
     * @param seed the seed
     * @param arena owner of the memory
     * @return weights that pass {@code validate(spec)}
     * @throws IllegalArgumentException for weight formats with no canonical layout
     */
    public static MoeWeights weights(MoeLayerSpec spec, long seed, Arena arena) {
        long e = spec.localExperts();
        long h = spec.hiddenSize();
        long i = spec.intermediateSize();
        WeightFormat fmt = spec.quant().weights();
        Optional<HostTensor> b13 = Optional.empty();
        Optional<HostTensor> b2 = Optional.empty();
        if (spec.hasBias()) {
            b13 = Optional.of(gaussianBf16(arena, seed, 5, BIAS_STD, e, 2 * i));
            b2 = Optional.of(gaussianBf16(arena, seed, 6, BIAS_STD, e, h));
        }
        return switch (fmt.kind()) {
            case MXFP4 -> {
                HostTensor w13 = HostTensor.allocate(arena, DType.U8, e, 2 * i, h / 2);
                HostTensor s13 = HostTensor.allocate(arena, DType.U8, e, 2 * i, h / 32);
                HostTensor w2 = HostTensor.allocate(arena, DType.U8, e, h, i / 2);
                HostTensor s2 = HostTensor.allocate(arena, DType.U8, e, h, i / 32);
                fillBytes(w13.data(), seed, 1);
                fillScales(s13.data(), seed, 2);
                fillBytes(w2.data(), seed, 3);
                fillScales(s2.data(), seed, 4);
                yield new MoeWeights(w13, Optional.of(s13), b13, w2, Optional.of(s2), b2);
            }
            case BF16 -> {
                HostTensor w13 = HostTensor.allocate(arena, DType.BF16, e, 2 * i, h);
                HostTensor w2 = HostTensor.allocate(arena, DType.BF16, e, h, i);
                fillBf16FromMxfp4(w13.data(), seed, 1);
                fillBf16FromMxfp4(w2.data(), seed, 3);
                yield new MoeWeights(w13, Optional.empty(), b13, w2, Optional.empty(), b2);
            }
            default -> throw new IllegalArgumentException("random weights exist for MXFP4 and BF16 layouts; "
                    + fmt + " has no canonical layout yet");
        };
    }

    /**
     * @param tokens T
     * @param hidden H
     * @param dtype F32, BF16 or F64
     * @param seed the seed
     * @param arena owner of the memory
     * @return {@code [T, H]} N(0, 1)
     */
    public static HostTensor hidden(int tokens, int hidden, DType dtype, long seed, Arena arena) {
        return gaussian(arena, dtype, seed, 7, 1.0, tokens, hidden);
    }

    /**
     * @param tokens T
     * @param experts E
     * @param seed the seed
     * @param arena owner of the memory
     * @return {@code [T, E]} F32 N(0, 1)
     */
    public static HostTensor routerLogits(int tokens, int experts, long seed, Arena arena) {
        return gaussian(arena, DType.F32, seed, 8, 1.0, tokens, experts);
    }

    /**
     * Random precomputed routing: per token {@code spec.topK()} distinct global ids in
     * {@code [0, E)} and weights that are a softmax of N(0, 1) logits (positive, summing to one).
     *
     * @param spec the layer
     * @param tokens T
     * @param seed the seed
     * @param arena owner of the memory
     * @return ids {@code [T, k]} I32 and weights {@code [T, k]} F32
     */
    public static Routing.TopK topK(MoeLayerSpec spec, int tokens, long seed, Arena arena) {
        int k = spec.topK();
        int experts = spec.experts();
        HostTensor ids = HostTensor.allocate(arena, DType.I32, tokens, k);
        HostTensor w = HostTensor.allocate(arena, DType.F32, tokens, k);
        SplittableRandom rnd = new SplittableRandom(mix(seed, 9));
        int[] chosen = new int[k];
        double[] x = new double[k];
        for (int t = 0; t < tokens; t++) {
            for (int j = 0; j < k; j++) {
                int id;
                boolean dup;
                do { // rejection keeps it O(k^2) per token; k <= E so it terminates
                    id = rnd.nextInt(experts);
                    dup = false;
                    for (int q = 0; q < j; q++) {
                        dup |= chosen[q] == id;
                    }
                } while (dup);
                chosen[j] = id;
                x[j] = rnd.nextGaussian();
            }
            double max = Double.NEGATIVE_INFINITY;
            for (double v : x) {
                max = Math.max(max, v);
            }
            double sum = 0;
            for (int j = 0; j < k; j++) {
                x[j] = Math.exp(x[j] - max);
                sum += x[j];
            }
            for (int j = 0; j < k; j++) {
                ids.data().setAtIndex(ValueLayout.JAVA_INT_UNALIGNED, (long) t * k + j, chosen[j]);
                w.data().setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, (long) t * k + j, (float) (x[j] / sum));
            }
        }
        return new Routing.TopK(ids, w);
    }

    // ---- bulk fills: fixed 1 MiB pieces, each with its own stream, so the result does not depend
    // on how many threads ran them

    private static final long PIECE = 1 << 20;

    private interface PieceFill {
        void fill(MemorySegment piece, SplittableRandom rnd);
    }

    private static final int PIECES_PER_BATCH = 64;

    // With a confined arena, workers fill heap pieces and the calling thread copies them in.
    private static void inPieces(MemorySegment seg, long seed, int stream, PieceFill f) {
        long size = seg.byteSize();
        int pieces = Math.toIntExact((size + PIECE - 1) / PIECE);
        if (seg.isAccessibleBy(new Thread(() -> { }))) {
            // a shared, global or automatic arena: workers fill the segment in place
            IntStream.range(0, pieces).parallel().forEach(p -> {
                long off = p * PIECE;
                f.fill(seg.asSlice(off, Math.min(PIECE, size - off)), new SplittableRandom(mix(mix(seed, stream), p)));
            });
            return;
        }
        for (int b0 = 0; b0 < pieces; b0 += PIECES_PER_BATCH) {
            int first = b0;
            int last = Math.min(pieces, b0 + PIECES_PER_BATCH);
            MemorySegment[] done = new MemorySegment[last - first];
            IntStream.range(first, last).parallel().forEach(p -> {
                long off = p * PIECE;
                MemorySegment piece = MemorySegment.ofArray(new byte[(int) Math.min(PIECE, size - off)]);
                f.fill(piece, new SplittableRandom(mix(mix(seed, stream), p)));
                done[p - first] = piece;
            });
            for (int p = first; p < last; p++) {
                MemorySegment.copy(done[p - first], 0, seg, p * PIECE, done[p - first].byteSize());
            }
        }
    }

    static void fillBytes(MemorySegment seg, long seed, int stream) {
        inPieces(seg, seed, stream, (piece, rnd) -> {
            long n = piece.byteSize();
            long q = 0;
            for (; q + 8 <= n; q += 8) {
                piece.set(LONG, q, rnd.nextLong());
            }
            for (; q < n; q++) {
                piece.set(ValueLayout.JAVA_BYTE, q, (byte) rnd.nextInt());
            }
        });
    }

    static void fillScales(MemorySegment seg, long seed, int stream) {
        // each byte: MIN_SCALE_CODE + 2 random bits; no carry crosses bytes (123 < 256)
        long base = 0x0101010101010101L * MIN_SCALE_CODE;
        inPieces(seg, seed, stream, (piece, rnd) -> {
            long n = piece.byteSize();
            long q = 0;
            for (; q + 8 <= n; q += 8) {
                piece.set(LONG, q, (rnd.nextLong() & 0x0303030303030303L) + base);
            }
            for (; q < n; q++) {
                piece.set(ValueLayout.JAVA_BYTE, q, (byte) (MIN_SCALE_CODE + rnd.nextInt(4)));
            }
        });
    }

    private static void fillBf16FromMxfp4(MemorySegment seg, long seed, int stream) {
        short[] table = new short[16 * 4];
        for (int s = 0; s < 4; s++) {
            for (int v = 0; v < 16; v++) {
                table[s * 16 + v] = Bf16.fromFloat(Mxfp4.decode(v) * Math.scalb(1f, MIN_SCALE_CODE + s - 127));
            }
        }
        inPieces(seg, seed, stream, (piece, rnd) -> {
            long n = piece.byteSize() / 2;
            for (long q = 0; q < n; q++) {
                piece.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, q, table[rnd.nextInt(64)]);
            }
        });
    }

    /**
     * A random LoRA adapter for this rank's experts: A factors N(0, 1/fan-in), B factors
     * N(0, 0.25^2/r), scaling 2 (PEFT's {@code lora_alpha = 2r}), so the low-rank terms are a sizable
     * fraction of the base projections and a kernel that drops or misplaces one fails a comparison.
     *
     * @param spec the layer
     * @param rank r
     * @param seed the seed (use distinct seeds for distinct adapters)
     * @param arena owner of the memory
     * @return an adapter that passes {@code validate(spec)} when {@code rank <= spec.maxLoraRank()}
     */
    public static LoraAdapter lora(MoeLayerSpec spec, int rank, long seed, Arena arena) {
        long e = spec.localExperts();
        long h = spec.hiddenSize();
        long i = spec.intermediateSize();
        double bStd = 0.25 / Math.sqrt(rank);
        return new LoraAdapter("random-" + seed + "-r" + rank, rank, 2.0,
                gaussianBf16(arena, seed, 20, 1 / Math.sqrt(h), e, rank, h),
                gaussianBf16(arena, seed, 21, bStd, e, i, rank),
                gaussianBf16(arena, seed, 22, 1 / Math.sqrt(h), e, rank, h),
                gaussianBf16(arena, seed, 23, bStd, e, i, rank),
                gaussianBf16(arena, seed, 24, 1 / Math.sqrt(i), e, rank, i),
                gaussianBf16(arena, seed, 25, bStd, e, h, rank));
    }

    /**
     * Random per-token adapter indices in {@code [-1, slots)}, every value present when
     * {@code tokens > slots}.
     *
     * @param tokens T
     * @param slots resident adapters
     * @param seed the seed
     * @param arena owner of the memory
     * @return I32 {@code [T]}
     */
    public static HostTensor adapterIds(int tokens, int slots, long seed, Arena arena) {
        HostTensor t = HostTensor.allocate(arena, DType.I32, tokens);
        SplittableRandom r = new SplittableRandom(seed * 31 + 26);
        for (int j = 0; j < tokens; j++) {
            int v = j <= slots ? j - 1 : r.nextInt(slots + 1) - 1;
            t.data().setAtIndex(ValueLayout.JAVA_INT, j, v);
        }
        return t;
    }

    private static HostTensor gaussianBf16(Arena arena, long seed, int stream, double std, long... shape) {
        return gaussian(arena, DType.BF16, seed, stream, std, shape);
    }

    private static HostTensor gaussian(Arena arena, DType dtype, long seed, int stream, double std, long... shape) {
        HostTensor t = HostTensor.allocate(arena, dtype, shape);
        int bytes = dtype.byteSize();
        if (dtype != DType.F32 && dtype != DType.BF16 && dtype != DType.F64) {
            throw new IllegalArgumentException("random floats come as F32, BF16 or F64, not " + dtype);
        }
        inPieces(t.data(), seed, stream, (piece, rnd) -> {
            long n = piece.byteSize() / bytes;
            for (long q = 0; q < n; q++) {
                double v = rnd.nextGaussian() * std;
                switch (dtype) {
                    case F32 -> piece.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, q, (float) v);
                    case BF16 -> piece.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, q, Bf16.fromFloat((float) v));
                    default -> piece.setAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, q, v);
                }
            }
        });
        return t;
    }

    /** A 64-bit mix (SplitMix64 finalizer) of a seed and a stream number. */
    static long mix(long seed, long stream) {
        long z = seed + 0x9E3779B97F4A7C15L * (stream + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
