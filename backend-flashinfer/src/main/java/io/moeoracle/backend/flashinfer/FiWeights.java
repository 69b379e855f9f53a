package io.moeoracle.backend.flashinfer;

import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.cuda.moe.launch.PaddedBias;
import io.moeoracle.driver.cuda.CudaContext;
import io.moeoracle.driver.cuda.CudaStream;
import io.moeoracle.driver.cuda.DeviceBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One layer's weights on the device: the canonical MXFP4 blocks and scales are uploaded, repacked on
 * the GPU into the padded layout of ABI.md ({@code fi_repack_mxfp4}, {@link FiLayout}) and from there
 * into the layout the GEMM families read ({@code fi_bf16_repack} or {@code fi_fp8_repack}); biases are
 * widened to padded FP32. Callers hold the kernel's lock.
 */
final class FiWeights {
    private static final Logger LOG = LoggerFactory.getLogger(FiWeights.class);

    private final CudaContext context;
    private final CudaStream stream;
    private final MoeLayerSpec spec;
    private final String providerId;
    private final FiFamily family;
    private final int el;
    private final int hp;
    private final int ip;

    DeviceBuffer q13;
    DeviceBuffer s13;
    DeviceBuffer q2;
    DeviceBuffer s2;
    DeviceBuffer b13;
    DeviceBuffer b2;

    FiWeights(CudaContext context, CudaStream stream, MoeLayerSpec spec, String providerId, FiFamily family) {
        this.context = context;
        this.stream = stream;
        this.spec = spec;
        this.providerId = providerId;
        this.family = family;
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
            int limit = family.maxScaleCode();
            if (max > limit) {
                throw new BadInputException((w13 ? "w13Scales" : "w2Scales") + " holds E8M0 code " + max
                        + (max == 255 ? " (NaN)" : " (2^" + (max - 127) + ")") + "; " + providerId + " (" + family
                        + " kernels) takes codes up to " + limit + " (2^" + (limit - 127) + "): fix the checkpoint's"
                        + " scales");
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
            DeviceBuffer[] w13 = repack(launches, tb, ts, weights.w13(), sc13, 2 * i, h, 2 * ip, hp);
            q13 = w13[0];
            s13 = w13[1];
            DeviceBuffer[] w2 = repack(launches, tb, ts, weights.w2(), sc2, h, i, hp, ip);
            q2 = w2[0];
            s2 = w2[1];
            stream.synchronize();
        }
        if (spec.hasBias()) {
            b13 = PaddedBias.upload(context, weights.w13Bias().orElseThrow(), el, 2 * i, 2 * ip);
            b2 = PaddedBias.upload(context, weights.w2Bias().orElseThrow(), el, h, hp);
        }
    }

    /**
     * Canonical blocks and scales -> the padded layout of ABI.md ({@code fi_repack_mxfp4}) -> the family's
     * own layout when it has one (then the padded copy is freed).
     *
     * @return the weights and scales the GEMMs read
     */
    private DeviceBuffer[] repack(FiLaunches launches, DeviceBuffer tb, DeviceBuffer ts, HostTensor blocks,
                                  HostTensor scales, int nReal, int kReal, int nPad, int kPad) {
        stream.synchronize(); // the temporaries may still feed the previous repack
        tb.copyFromHost(blocks.data());
        ts.copyFromHost(scales.data());
        DeviceBuffer q = context.allocate(FiLayout.weightBytes(el, nPad, kPad));
        DeviceBuffer s = null;
        DeviceBuffer fq = null;
        try {
            s = context.allocate(FiLayout.scaleBytes(el, nPad, kPad));
            launches.repack(tb.address(), ts.address(), nReal, kReal, nPad, kPad, q.address(), s.address(), q.byteSize());
            fq = context.allocate(family.repackedWeightBytes(el, nPad, kPad));
            DeviceBuffer fs = context.allocate(family.repackedScaleBytes(el, nPad, kPad));
            try (DeviceBuffer lossy = context.allocate(8)) {
                lossy.fill((byte) 0);
                launches.familyRepack(q.address(), s.address(), nPad, kPad, fq.address(), fs.address(), lossy.address());
                stream.synchronize();
                if (family.fp8()) {
                    java.nio.ByteBuffer counts = java.nio.ByteBuffer.wrap(lossy.toByteArray())
                            .order(java.nio.ByteOrder.LITTLE_ENDIAN);
                    int tiles = counts.getInt(0);
                    int rows = counts.getInt(4);
                    if (tiles != 0 || rows != 0) {
                        LOG.debug("{}: {} x {} weights: {} tile-groups folded per row, {} row-groups whose blocks span"
                                + " more than 14 binades (the wgmma kernels round their smallest blocks)", providerId,
                                nPad, kPad, tiles, rows);
                    }
                }
            }
            q.close();
            s.close();
            return new DeviceBuffer[] {fq, fs};
        } catch (RuntimeException e) {
            for (DeviceBuffer b : new DeviceBuffer[] {q, s, fq}) {
                if (b != null) {
                    b.close();
                }
            }
            throw e;
        }
    }

    /**
     * Repacks canonical weights into the padded layout of ABI.md only (what every family starts from), for
     * the test that compares it with {@link FiLayout#repack}.
     *
     * @return the padded weights and scales, copied to the host
     */
    byte[][] paddedLayout(FiLaunches launches, HostTensor blocks, HostTensor scales, int nReal, int kReal, int nPad,
                          int kPad) {
        try (DeviceBuffer tb = context.allocate(blocks.byteSize()); DeviceBuffer ts = context.allocate(scales.byteSize());
             DeviceBuffer q = context.allocate(FiLayout.weightBytes(el, nPad, kPad));
             DeviceBuffer s = context.allocate(FiLayout.scaleBytes(el, nPad, kPad))) {
            tb.copyFromHost(blocks.data());
            ts.copyFromHost(scales.data());
            launches.repack(tb.address(), ts.address(), nReal, kReal, nPad, kPad, q.address(), s.address(), q.byteSize());
            stream.synchronize();
            return new byte[][] {q.toByteArray(), s.toByteArray()};
        }
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
