package io.moeoracle.backend.xpu;

import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.driver.opencl.ClBuffer;
import io.moeoracle.driver.opencl.ClContext;
import java.util.ArrayList;
import java.util.List;

/** Per-call scratch buffers of one xpu kernel for up to {@code tokens} tokens. Callers hold the kernel's lock. */
final class XpuWorkspace implements AutoCloseable {
    final int tokens;
    final ClBuffer x;
    final ClBuffer raw;
    final ClBuffer logits;
    final ClBuffer ids;
    final ClBuffer wts;
    final ClBuffer sorted;
    final ClBuffer tileExpert;
    final ClBuffer act;
    final ClBuffer y;
    final ClBuffer out;
    private final ClContext context;
    private final List<ClBuffer> all = new ArrayList<>();

    XpuWorkspace(ClContext context, MoeLayerSpec spec, int tokens) {
        this.context = context;
        this.tokens = tokens;
        long t = tokens;
        long h = spec.hiddenSize();
        long tk = t * spec.topK();
        int tiles = XpuMoeKernel.maxTiles((int) tk, spec.localExperts());
        try {
            x = alloc(4 * t * h);
            raw = alloc(2 * t * h);
            logits = alloc(4 * t * spec.experts());
            ids = alloc(4 * tk);
            wts = alloc(4 * tk);
            sorted = alloc(4L * tiles * XpuPrograms.BM);
            tileExpert = alloc(4L * tiles);
            act = alloc(4 * tk * spec.intermediateSize());
            y = alloc(4 * tk * h);
            out = alloc(4 * t * h);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private ClBuffer alloc(long bytes) {
        ClBuffer b = context.createBuffer(Math.max(16, bytes));
        all.add(b);
        return b;
    }

    @Override
    public void close() {
        for (ClBuffer b : all) {
            b.close();
        }
        all.clear();
    }
}
