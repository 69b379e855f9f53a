package io.moeoracle.backend.marlin;

import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.cuda.moe.launch.PaddedBias;
import io.moeoracle.driver.cuda.CudaContext;
import io.moeoracle.driver.cuda.CudaStream;
import io.moeoracle.driver.cuda.DeviceBuffer;
import io.moeoracle.driver.cuda.KernelArgs;
import io.moeoracle.driver.cuda.LaunchConfig;
import java.lang.foreign.Arena;

/**
 * One layer's weights on the device in the marlin layout: the canonical MXFP4 blocks and scales
 * are uploaded and repacked on the GPU ({@code moe_repack_mxfp4}), biases widened to padded FP32.
 * Callers hold the kernel's lock.
 */
final class MarlinWeights {
    private final CudaContext context;
    private final CudaStream stream;
    private final MoeLayerSpec spec;
    private final int el;
    private final int hp;
    private final int ip;

    DeviceBuffer q13;
    DeviceBuffer sc13;
    DeviceBuffer q2;
    DeviceBuffer sc2;
    DeviceBuffer b13;
    DeviceBuffer b2;
    /** The power-of-two scale bias of each GEMM's scales (applied in the kernel as {@code 2^x}). */
    int x13;
    int x2;

    MarlinWeights(CudaContext context, CudaStream stream, MoeLayerSpec spec) {
        this.context = context;
        this.stream = stream;
        this.spec = spec;
        this.el = spec.localExperts();
        this.hp = MarlinLayout.pad(spec.hiddenSize());
        this.ip = MarlinLayout.pad(spec.intermediateSize());
    }

    /** Frees what is on the device, then uploads and repacks {@code weights} (already validated). */
    void upload(MoeWeights weights, MarlinLaunches launches) {
        free();
        int h = spec.hiddenSize();
        int i = spec.intermediateSize();
        HostTensor s13 = weights.w13Scales().orElseThrow();
        HostTensor s2 = weights.w2Scales().orElseThrow();
        x13 = MarlinLayout.scaleBias(s13.data());
        x2 = MarlinLayout.scaleBias(s2.data());
        long blocksMax = Math.max(weights.w13().byteSize(), weights.w2().byteSize());
        long scalesMax = Math.max(s13.byteSize(), s2.byteSize());
        try (DeviceBuffer tb = context.allocate(Math.max(1, blocksMax));
             DeviceBuffer ts = context.allocate(Math.max(1, scalesMax))) {
            q13 = context.allocate(MarlinLayout.weightBytes(el, 2 * ip, hp));
            sc13 = context.allocate(MarlinLayout.scaleBytes(el, 2 * ip, hp));
            repack(launches, tb, ts, weights.w13(), s13, 2 * i, h, 2 * ip, hp, x13, q13, sc13);
            q2 = context.allocate(MarlinLayout.weightBytes(el, hp, ip));
            sc2 = context.allocate(MarlinLayout.scaleBytes(el, hp, ip));
            repack(launches, tb, ts, weights.w2(), s2, h, i, hp, ip, x2, q2, sc2);
            stream.synchronize();
        }
        if (spec.hasBias()) {
            b13 = PaddedBias.upload(context, weights.w13Bias().orElseThrow(), el, 2 * i, 2 * ip);
            b2 = PaddedBias.upload(context, weights.w2Bias().orElseThrow(), el, h, hp);
        }
    }

    private void repack(MarlinLaunches launches, DeviceBuffer tb, DeviceBuffer ts, HostTensor blocks,
                        HostTensor scales, int nReal, int kReal, int nPad, int kPad, int xBias, DeviceBuffer q,
                        DeviceBuffer sc) {
        stream.synchronize(); // the temporaries may still feed the previous repack
        tb.copyFromHost(blocks.data());
        ts.copyFromHost(scales.data());
        long words = q.byteSize() / 4;
        try (Arena arena = Arena.ofConfined()) {
            KernelArgs args = KernelArgs.builder().pointer(tb).pointer(ts).i32(el).i32(nReal).i32(kReal).i32(nPad)
                    .i32(kPad).i32(xBias).pointer(q).pointer(sc).build(arena);
            launches.launch("moe_repack_mxfp4", LaunchConfig.covering(words, 256), args);
        }
    }

    /** @return the repacked w13 (or w2) weights and scales, copied to the host; for tests */
    byte[][] layout(boolean w13) {
        return w13 ? new byte[][] {q13.toByteArray(), sc13.toByteArray()}
                : new byte[][] {q2.toByteArray(), sc2.toByteArray()};
    }

    void free() {
        for (DeviceBuffer b : new DeviceBuffer[] {q13, sc13, q2, sc2, b13, b2}) {
            if (b != null) {
                b.close();
            }
        }
        q13 = sc13 = q2 = sc2 = b13 = b2 = null;
    }
}
