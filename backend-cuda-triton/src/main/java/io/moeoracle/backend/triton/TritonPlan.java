package io.moeoracle.backend.triton;

/**
 * Which token-count bucket (tile configuration) one forward call runs, and the grid bound on its M
 * tiles. Pure arithmetic, unit-tested on any machine.
 */
final class TritonPlan {
    /** Bucket names, as aot.py's BUCKETS. */
    static final String DECODE = "decode";
    static final String MID = "mid";
    static final String PREFILL = "prefill";
    static final String[] BUCKETS = {DECODE, MID, PREFILL};
    /** Up to this many token-expert rows per local expert (on average) the decode tiles run. */
    static final double DECODE_MAX_ROWS_PER_EXPERT = 12;
    /** Up to this many the mid tiles run; above, the prefill tiles. */
    static final double MID_MAX_ROWS_PER_EXPERT = 64;

    private TritonPlan() {
    }

    /**
     * @param rows token-expert rows of the call (T * k)
     * @param localExperts E_local
     * @return the bucket, from the sweep on an H100 at the gpt-oss-120b shape (README.md)
     */
    static String bucket(long rows, int localExperts) {
        double per = (double) rows / localExperts;
        if (per <= DECODE_MAX_ROWS_PER_EXPERT) {
            return DECODE;
        }
        return per <= MID_MAX_ROWS_PER_EXPERT ? MID : PREFILL;
    }

    /**
     * @param bucket a bucket
     * @param localExperts E_local
     * @return the most token-expert rows a call of that bucket can have
     */
    static long maxRows(String bucket, int localExperts) {
        return switch (bucket) {
            case DECODE -> (long) Math.floor(DECODE_MAX_ROWS_PER_EXPERT * localExperts);
            case MID -> (long) Math.floor(MID_MAX_ROWS_PER_EXPERT * localExperts);
            default -> Long.MAX_VALUE;
        };
    }

    /**
     * @param rows token-expert rows
     * @param localExperts E_local
     * @param bm the bucket's M tile
     * @return the most M tiles the rows can need when each expert's rows are padded to bm
     */
    static long tilesMax(long rows, int localExperts, int bm) {
        return Math.min(localExperts, rows) + (rows + bm - 1) / bm;
    }

    /** @return {@code ceil(a / b)} */
    static long cdiv(long a, long b) {
        return (a + b - 1) / b;
    }

    /** @return {@code x} rounded up to the kernels' K / N padding (64) */
    static int pad(int x) {
        return (x + 63) / 64 * 64;
    }
}
