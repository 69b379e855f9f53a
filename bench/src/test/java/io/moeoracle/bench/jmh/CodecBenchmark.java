package io.moeoracle.bench.jmh;

import io.moeoracle.api.quant.Mxfp4;
import io.moeoracle.api.quant.Mxfp8;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/** The api's MXFP4 and MXFP8 codecs over 4096 values (128 blocks of 32); scores are per 4096 values. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class CodecBenchmark {
    private static final int N = 4096;
    private static final int BLOCKS = N / Mxfp4.BLOCK;
    private final float[] values = new float[N];
    private final float[] decoded = new float[N];
    private final byte[] fp4 = new byte[BLOCKS * Mxfp4.BLOCK_BYTES];
    private final int[] fp4Scales = new int[BLOCKS];
    private final byte[] fp8 = new byte[N];
    private final int[] fp8Scales = new int[BLOCKS];

    @Setup
    public void setUp() {
        SplittableRandom r = new SplittableRandom(42);
        for (int i = 0; i < N; i++) {
            values[i] = (float) (r.nextGaussian() * 0.02);
        }
        mxfp4Encode();
        mxfp8Encode();
    }

    @Benchmark
    public int mxfp4Encode() {
        int s = 0;
        for (int b = 0; b < BLOCKS; b++) {
            fp4Scales[b] = Mxfp4.encode(values, b * Mxfp4.BLOCK, fp4, b * Mxfp4.BLOCK_BYTES);
            s += fp4Scales[b];
        }
        return s;
    }

    @Benchmark
    public float[] mxfp4Decode() {
        for (int b = 0; b < BLOCKS; b++) {
            Mxfp4.decodeBlock(fp4, b * Mxfp4.BLOCK_BYTES, fp4Scales[b], decoded, b * Mxfp4.BLOCK);
        }
        return decoded;
    }

    @Benchmark
    public int mxfp8Encode() {
        int s = 0;
        for (int b = 0; b < BLOCKS; b++) {
            fp8Scales[b] = Mxfp8.encode(values, b * Mxfp8.BLOCK, fp8, b * Mxfp8.BLOCK);
            s += fp8Scales[b];
        }
        return s;
    }

    @Benchmark
    public float[] mxfp8Decode() {
        for (int b = 0; b < BLOCKS; b++) {
            Mxfp8.decodeBlock(fp8, b * Mxfp8.BLOCK, fp8Scales[b], decoded, b * Mxfp8.BLOCK);
        }
        return decoded;
    }
}
