package io.moeoracle.backend.flashinfer;

import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.quant.Bf16;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.driver.cuda.CudaContext;
import io.moeoracle.driver.cuda.CudaStream;
import io.moeoracle.driver.cuda.DeviceBuffer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One layer's weights on the device in the layout of ABI.md ({@link FiLayout}): the canonical MXFP4
 * blocks and scales are uploaded and repacked on the GPU ({@code fi_repack_mxfp4}), biases widened to
 * padded FP32. Callers hold the kernel's lock.
 */
final class FiWeights {
    /**
     * The largest E8M0 weight scale code prepare takes (ABI.md): a dequantized value (at most 6)
     * times 2^(code-127) must stay finite in BF16 with room for the sums, 6 * 2^123 < 3.4e38.
     */
    static final int MAX_SCALE_CODE = 250;

    private final CudaContext context;
    private final CudaStream stream;
    private final MoeLayerSpec spec;
    private final String providerId;
    private final int el;
    private final int hp;
    private final int ip;

    DeviceBuffer q13;
    DeviceBuffer s13;
    DeviceBuffer q2;
    DeviceBuffer s2;
    DeviceBuffer b13;
    DeviceBuffer b2;

    FiWeights(CudaContext context, CudaStream stream, MoeLayerSpec spec, String providerId) {
        this.context = context;
        this.stream = stream;
        this.spec = spec;
        this.providerId = providerId;
        this.el = spec.localExperts();
        this.hp = FiLayout.pad(spec.hiddenSize());
        this.ip = FiLayout.pad(spec.intermediateSize());
    }

    /**
     * Checks the scale codes before anything is freed or launched.
     *
     * @throws BadInputException naming the tensor, its largest code and the limit
     */
    void check(MoeWeights weights) {
        for (boolean w13 : new boolean[] {true, false}) {
            HostTensor s = (w13 ? weights.w13Scales() : weights.w2Scales()).orElseThrow();
            int max = FiLayout.maxScaleCode(s.data());
            if (max > MAX_SCALE_CODE) {
                throw new BadInputException((w13 ? "w13Scales" : "w2Scales") + " holds E8M0 code " + max + " (2^"
                        + (max - 127) + "); " + providerId + " takes codes up to " + MAX_SCALE_CODE + " (2^"
                        + (MAX_SCALE_CODE - 127) + ") so that dequantized weights stay finite: rescale the checkpoint"
                        + " or use marlin");
            }
        }
    }

    /** Frees what is on the device, then uploads and repacks {@code weights} (validated and checked). */
    void upload(MoeWeights weights, FiLaunches launches) {
        free();
        int h = spec.hiddenSize();
        int i = spec.intermediateSize();
        HostTensor sc13 = weights.w13Scales().orElseThrow();
        HostTensor sc2 = weights.w2Scales().orElseThrow();
        long blocksMax = Math.max(weights.w13().byteSize(), weights.w2().byteSize());
        long scalesMax = Math.max(sc13.byteSize(), sc2.byteSize());
        try (DeviceBuffer tb = context.allocate(Math.max(1, blocksMax));
             DeviceBuffer ts = context.allocate(Math.max(1, scalesMax))) {
            q13 = context.allocate(FiLayout.weightBytes(el, 2 * ip, hp));
            s13 = context.allocate(FiLayout.scaleBytes(el, 2 * ip, hp));
            repack(launches, tb, ts, weights.w13(), sc13, 2 * i, h, 2 * ip, hp, q13, s13);
            q2 = context.allocate(FiLayout.weightBytes(el, hp, ip));
            s2 = context.allocate(FiLayout.scaleBytes(el, hp, ip));
            repack(launches, tb, ts, weights.w2(), sc2, h, i, hp, ip, q2, s2);
            stream.synchronize();
        }
        if (spec.hasBias()) {
            b13 = uploadBias(weights.w13Bias().orElseThrow(), 2 * i, 2 * ip);
            b2 = uploadBias(weights.w2Bias().orElseThrow(), h, hp);
        }
    }

    private void repack(FiLaunches launches, DeviceBuffer tb, DeviceBuffer ts, HostTensor blocks, HostTensor scales,
                        int nReal, int kReal, int nPad, int kPad, DeviceBuffer q, DeviceBuffer s) {
        stream.synchronize(); // the temporaries may still feed the previous repack
        tb.copyFromHost(blocks.data());
        ts.copyFromHost(scales.data());
        launches.repack(tb.address(), ts.address(), nReal, kReal, nPad, kPad, q.address(), s.address(), q.byteSize());
    }

    private DeviceBuffer uploadBias(HostTensor bias, int n, int nPad) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment f = arena.allocate((long) el * nPad * 4, 16);
            for (int e = 0; e < el; e++) {
                for (int c = 0; c < n; c++) {
                    long at = (long) e * n + c;
                    float v = bias.dtype() == DType.F32 ? bias.data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, at)
                            : Bf16.toFloat(bias.data().getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, at));
                    f.setAtIndex(ValueLayout.JAVA_FLOAT, (long) e * nPad + c, v);
                }
            }
            DeviceBuffer b = context.allocate(f.byteSize());
            b.copyFromHost(f);
            return b;
        }
    }

    /** @return the repacked w13 (or w2) weights and scales, copied to the host; for tests */
    byte[][] layout(boolean w13) {
        return w13 ? new byte[][] {q13.toByteArray(), s13.toByteArray()}
                : new byte[][] {q2.toByteArray(), s2.toByteArray()};
    }

    void free() {
        for (DeviceBuffer b : new DeviceBuffer[] {q13, s13, q2, s2, b13, b2}) {
            if (b != null) {
                b.close();
            }
        }
        q13 = s13 = q2 = s2 = b13 = b2 = null;
    }
}
