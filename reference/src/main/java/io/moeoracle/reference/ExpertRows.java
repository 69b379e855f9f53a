package io.moeoracle.reference;

import io.moeoracle.api.quant.Bf16;
import io.moeoracle.api.quant.E8m0;
import io.moeoracle.api.quant.Mxfp4;
import io.moeoracle.api.spec.WeightFormat;
import io.moeoracle.api.tensor.HostTensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Optional;

/**
 * One weight matrix of every local expert ({@code [El, rows, cols]}), decoded 32 columns at a time
 * into doubles, exactly: MXFP4 values times their E8M0 scale (NaN for 0xFF), or BF16 values.
 * {@link #stage} copies one expert's bytes to the heap on the calling thread, so the decoding can
 * run on worker threads even when the weights live in a confined arena.
 */
final class ExpertRows {
    private final boolean mxfp4;
    private final MemorySegment values;
    private final MemorySegment scales;
    private final int rows;
    private final int cols;

    /** Columns per decoded tile: one MXFP4 block. */
    static final int TILE = Mxfp4.BLOCK;
    private static final double[] E2M1 = new double[16];

    static {
        for (int i = 0; i < 16; i++) {
            E2M1[i] = Mxfp4.decode(i);
        }
    }

    ExpertRows(WeightFormat format, HostTensor values, Optional<HostTensor> scales, int rows, int cols) {
        if (format.kind() != WeightFormat.Kind.MXFP4 && format.kind() != WeightFormat.Kind.BF16) {
            throw new IllegalArgumentException("the reference decodes MXFP4 and BF16 weights, not " + format);
        }
        this.mxfp4 = format.kind() == WeightFormat.Kind.MXFP4;
        this.values = values.data();
        this.scales = scales.map(HostTensor::data).orElse(null);
        this.rows = rows;
        this.cols = cols;
        long perExpert = mxfp4 ? (long) rows * cols / 2 : (long) rows * cols;
        if (perExpert > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("one expert's " + rows + "x" + cols
                    + " matrix is too large for the reference to stage");
        }
    }

    /** @return bytes {@link #stage} copies per expert */
    long stagedBytes() {
        return mxfp4 ? (long) rows * cols / 2 + (long) rows * cols / Mxfp4.BLOCK : 2L * rows * cols;
    }

    /**
     * Copies one expert's weights to the heap; call on a thread that may access the weights.
     *
     * @param expert local expert index
     * @return the staged copy
     */
    Staged stage(int expert) {
        if (mxfp4) {
            long bytes = (long) rows * cols / 2;
            long blocks = (long) rows * cols / Mxfp4.BLOCK;
            return new Staged(values.asSlice(expert * bytes, bytes).toArray(ValueLayout.JAVA_BYTE),
                    scales.asSlice(expert * blocks, blocks).toArray(ValueLayout.JAVA_BYTE), null);
        }
        long n = (long) rows * cols;
        return new Staged(null, null, values.asSlice(expert * n * 2, n * 2).toArray(ValueLayout.JAVA_SHORT_UNALIGNED));
    }

    /** One expert's weights on the heap, decodable from any thread. */
    final class Staged {
        private final byte[] packed;
        private final byte[] scaleCodes;
        private final short[] bf16;

        private Staged(byte[] packed, byte[] scaleCodes, short[] bf16) {
            this.packed = packed;
            this.scaleCodes = scaleCodes;
            this.bf16 = bf16;
        }

        /**
         * Decodes the 32 columns {@code [32*colBlock, 32*colBlock + 32)} of every row, transposed:
         * {@code tile[c][r]} is row r, column {@code 32*colBlock + c}. The last block of a BF16 row
         * narrower than a multiple of 32 fills only its columns.
         *
         * @param colBlock the block of 32 columns
         * @param tile 32 arrays of {@code rows} values
         */
        void decodeTile(int colBlock, double[][] tile) {
            if (mxfp4) {
                int rowBytes = cols / 2;
                int blocks = cols / Mxfp4.BLOCK;
                for (int r = 0; r < rows; r++) {
                    double s = E8m0.toDouble(scaleCodes[r * blocks + colBlock]);
                    int base = r * rowBytes + colBlock * Mxfp4.BLOCK_BYTES;
                    for (int i = 0; i < Mxfp4.BLOCK_BYTES; i++) {
                        int b = packed[base + i];
                        tile[2 * i][r] = E2M1[b & 0xF] * s;
                        tile[2 * i + 1][r] = E2M1[(b >>> 4) & 0xF] * s;
                    }
                }
            } else {
                int width = Math.min(TILE, cols - colBlock * TILE); // the last block of a BF16 row may be partial
                for (int r = 0; r < rows; r++) {
                    int base = r * cols + colBlock * TILE;
                    for (int c = 0; c < width; c++) {
                        tile[c][r] = Bf16.toFloat(bf16[base + c]);
                    }
                }
            }
        }
    }
}
