package io.moeoracle.backend.flashinfer;

import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.error.NativeFailureException;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.cuda.moe.launch.EpilogueActivation;
import io.moeoracle.cuda.moe.launch.LoadedImage;
import io.moeoracle.cuda.moe.launch.RoutingLaunches;
import io.moeoracle.driver.cuda.CudaContext;
import io.moeoracle.driver.cuda.CudaFunction;
import io.moeoracle.driver.cuda.CudaModule;
import io.moeoracle.driver.cuda.CudaStream;
import io.moeoracle.driver.cuda.DeviceBuffer;
import io.moeoracle.driver.cuda.KernelArgs;
import io.moeoracle.driver.cuda.LaunchConfig;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The loaded image of one flashinfer kernel and every launch of a forward (ABI.md): the MXFP8
 * quantizers, the two GEMMs and the weight repacks here; routing, alignment, the final conversion and
 * the F32-to-BF16 conversion through cuda-moe's {@link RoutingLaunches} ({@link #routing}, the image's
 * {@code fi_} functions). The kernel runs one or more GEMM families (FP8 on Hopper: the wgmma kernels
 * for the M tiles they offer, the mma.sync ones for the others; they share one weight layout); their
 * M tiles are found by probing the image and each {@code _config} read once. Every launch goes to the
 * kernel's stream; callers hold the kernel's lock.
 */
final class FiLaunches implements AutoCloseable {
    private static final int DEFAULT_SMEM_LIMIT = 48 * 1024;
    /** The image's prefix of the functions cuda-moe's {@link RoutingLaunches} launches. */
    static final String PREFIX = "fi_";
    /** Threads per CTA of the quantizers (one CTA per row: fi_fp8.cuh). */
    static final int QUANT_THREADS = 128;

    private final MoeLayerSpec spec;
    private final List<FiFamily> families;
    /** The family that runs each offered M tile. */
    private final Map<Integer, FiFamily> byM = new TreeMap<>();
    private final CudaContext context;
    private final CudaStream stream;
    private final LoadedImage image;
    private final FiScratch scratch;
    private final Map<String, FiConfig> configs = new HashMap<>();
    private int[] offered = new int[0];
    private final int sms;
    private final int hp;
    private final int ip;
    private final int el;
    private final EpilogueActivation act;
    private int forcedM;
    /** Routing, alignment, finalize and the F32-to-BF16 conversion ({@code fi_} functions). */
    final RoutingLaunches routing;

    /** Takes the loaded image (closed by {@link #close}); {@link #loadFunctions} must follow. */
    FiLaunches(MoeLayerSpec spec, List<FiFamily> families, CudaContext context, CudaStream stream, CudaModule module,
               int sms, FiScratch scratch) {
        this.spec = spec;
        this.families = List.copyOf(families);
        if (families.stream().map(FiFamily::repack).distinct().count() != 1) {
            throw new IllegalArgumentException("families " + families + " need different weight layouts");
        }
        this.context = context;
        this.stream = stream;
        this.image = new LoadedImage(module, stream);
        this.scratch = scratch;
        this.sms = sms;
        this.hp = FiLayout.pad(spec.hiddenSize());
        this.ip = FiLayout.pad(spec.intermediateSize());
        this.el = spec.localExperts();
        this.act = EpilogueActivation.of(spec.activation());
        this.routing = new RoutingLaunches(PREFIX, spec, scratch, image::launch);
    }

    /**
     * Looks up the shared kernels, probes the families' M tiles (both GEMMs must exist; the first family
     * listed that has an M runs it) and reads their configurations.
     *
     * @param smemOptin the device's opt-in shared memory per block
     * @throws NativeFailureException when the image lacks a kernel or a configuration is unusable
     */
    void loadFunctions(int smemOptin) {
        image.load(RoutingLaunches.functions(PREFIX));
        image.load(List.of("fi_repack_mxfp4"));
        for (FiFamily f : families) {
            if (f.fp8()) {
                image.load(List.of(f.quantizer(), FiFamily.EXACT_QUANTIZER));
            }
            image.load(List.of(f.repack()));
        }
        try (DeviceBuffer cfg = context.allocate(FiConfig.INTS * 4); Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(FiConfig.INTS * 4L, 4);
            for (int m : FiPlan.M_PROBE) {
                for (FiFamily f : families) {
                    CudaFunction g1 = byM.containsKey(m) ? null : image.find(f.kernel(1, m)).orElse(null);
                    CudaFunction g2 = g1 == null ? null : image.find(f.kernel(2, m)).orElse(null);
                    if (g2 == null) {
                        continue;
                    }
                    for (CudaFunction g : new CudaFunction[] {g1, g2}) {
                        configs.put(g.name(), readConfig(g, f, m, cfg, host, arena, smemOptin));
                        image.keep(g);
                    }
                    byM.put(m, f);
                }
            }
        }
        if (byM.isEmpty()) {
            throw new NativeFailureException("cuModuleGetFunction", families.getFirst().kernel(1, 0), "not found",
                    "the kernel image has no GEMM kernels of " + families + " for M in " + Arrays.toString(FiPlan.M_PROBE)
                    + ": the jar's image was built without them; rebuild backend-flashinfer", null);
        }
        offered = byM.keySet().stream().mapToInt(Integer::intValue).toArray();
    }

    private FiConfig readConfig(CudaFunction g, FiFamily f, int m, DeviceBuffer cfg, MemorySegment host, Arena arena,
                                int smemOptin) {
        String name = g.name() + "_config";
        cfg.fill((byte) 0);
        image.function(name).launch(LaunchConfig.of(1, 1), stream, KernelArgs.builder().pointer(cfg).build(arena));
        stream.synchronize();
        cfg.copyToHost(host);
        int[] o = host.toArray(ValueLayout.JAVA_INT);
        if (o[2] != m || o[1] <= 0 || o[1] > 1024 || o[3] <= 0 || o[4] < 0 || o[5] < 1 || o[6] < 0 || o[6] > 1) {
            throw new NativeFailureException(name, "", "reports " + Arrays.toString(o), name + " reports "
                    + Arrays.toString(o) + " (smem, threads, M, BN, CTAs per SM, cluster, F32 intermediate); expected M="
                    + m + ", 1..1024 threads, BN > 0, cluster >= 1, 0 or 1: the jar's kernel image does not match this"
                    + " class: rebuild backend-flashinfer", null);
        }
        if (o[0] > smemOptin) {
            throw new NativeFailureException(name, "", "needs " + o[0] + " bytes of shared memory per block",
                    g.name() + " needs " + o[0] + " bytes of shared memory per block; this device allows " + smemOptin,
                    null);
        }
        if (o[0] > DEFAULT_SMEM_LIMIT) {
            g.setMaxDynamicSharedMemory(o[0]);
        }
        int resident = g.maxActiveBlocksPerMultiprocessor(o[1], o[0]);
        return new FiConfig(o[0], o[1], o[2], o[3], o[4], o[5], o[6] == 1 || f.f32Intermediate(), resident,
                f.minKPerSplit());
    }

    /** @return whether GEMM1 writes an F32 intermediate (every offered M tile must agree) */
    boolean f32Intermediate() {
        boolean f32 = gemmConfig(1, offered[0]).f32Intermediate();
        for (int m : offered) {
            if (gemmConfig(1, m).f32Intermediate() != f32) {
                throw new NativeFailureException(familyFor(m).kernel(1, m) + "_config", "", "intermediate type differs",
                        "the GEMM1 kernels of " + families + " disagree on the intermediate's type (o[6]): rebuild"
                        + " backend-flashinfer with a consistent image", null);
            }
        }
        return f32;
    }

    /** @return the family that runs M tile {@code m} */
    FiFamily familyFor(int m) {
        FiFamily f = byM.get(m);
        if (f == null) {
            throw new IllegalArgumentException("M tile " + m + " is not one of " + Arrays.toString(offered));
        }
        return f;
    }

    private FiConfig gemmConfig(int gemm, int m) {
        return configs.get(familyFor(m).kernel(gemm, m));
    }

    /** @return the families this kernel runs, in the order they were preferred */
    List<FiFamily> families() {
        return families;
    }

    /** @return the M tiles the family offers on this device, ascending */
    int[] offered() {
        return offered.clone();
    }

    /**
     * @throws BadInputException when the call needs more M tiles than a grid holds (before any launch)
     */
    FiPlan plan(long rows, int tokens) {
        try {
            boolean wgmma = false;
            for (int m : offered) {
                wgmma |= familyFor(m) == FiFamily.FP8_WGMMA;
            }
            boolean wgmmaOffered = wgmma;
            return FiPlan.of(rows, el, offered, m -> familyFor(m).rowsPerExpertBound(m, wgmmaOffered), forcedM,
                    m -> gemmConfig(2, m), hp, ip, sms, tokens);
        } catch (IllegalArgumentException e) {
            throw new BadInputException(tokens + " tokens: " + e.getMessage(), e);
        }
    }

    /** Forces the M tile for later calls, or 0 to choose by size. */
    void forceM(int m) {
        if (m != 0) {
            familyFor(m);
        }
        forcedM = m;
    }

    /**
     * MXFP8-quantizes rows of {@code in} (F32 or BF16, row stride {@code inStride} elements) into
     * {@code q [rows][kPad]} E4M3 and {@code s [rows][kPad/32]} E8M0 with {@code quantizer} (the exact one,
     * or the wgmma family's folded one); rows = {@code min(*rowsDev * rowsMul, rowsMax)}, or {@code rowsMax}
     * when {@code rowsDev} is 0.
     */
    void quantize(Arena arena, String quantizer, long in, boolean inBf16, int inStride, long rowsDev, int rowsMul,
                  long rowsMax, int kReal, int kPad, long q, long s) {
        launch(quantizer, LaunchConfig.of((int) rowsMax, QUANT_THREADS), KernelArgs.builder().pointer(in)
                .i32(inBf16 ? 1 : 0).i32(inStride).pointer(rowsDev).i32(rowsMul).i32((int) rowsMax).i32(kReal)
                .i32(kPad).pointer(q).pointer(s).build(arena));
    }

    /**
     * GEMM1 (+ bias, + activation) into the BF16 intermediate {@code [tilesMax*M][Ip]}.
     *
     * @param a BF16 {@code [T][aStride]} or E4M3 {@code [T][Hp]}
     * @param aScales E8M0 {@code [T][Hp/32]} (FP8 families), else 0
     */
    void gemm1(Arena arena, FiPlan plan, FiWeights w, long a, long aScales, int aStride) {
        String name = familyFor(plan.m()).kernel(1, plan.m());
        FiConfig c = configs.get(name);
        gemm(arena, name, c, grid(c, 2 * ip, 1, plan), a, aScales, aStride, 0, spec.hiddenSize(), w.q13, w.s13,
                w.b13, 2 * spec.intermediateSize(), 2 * ip, hp, 1, scratch.inter().address(), ip, 0L);
    }

    /** GEMM2 (+ bias, times the routing weight, top-k sum by FP32 atomics) into the accumulator {@code [T][H]}. */
    void gemm2(Arena arena, FiPlan plan, FiWeights w, long a, long aScales) {
        String name = familyFor(plan.m()).kernel(2, plan.m());
        FiConfig c = configs.get(name);
        gemm(arena, name, c, grid(c, hp, plan.splits(), plan), a, aScales, ip, 1, spec.intermediateSize(), w.q2, w.s2,
                w.b2, spec.hiddenSize(), hp, ip, plan.splits(), scratch.acc().address(), spec.hiddenSize(),
                scratch.topkW().address());
    }

    private LaunchConfig grid(FiConfig c, int nPad, int splits, FiPlan plan) {
        int x = c.persistent() ? sms * c.persistentPerSm() : c.nTiles(nPad) * splits;
        int y = c.persistent() ? 1 : plan.tilesMax();
        // a cluster size is compiled into the kernel (__cluster_dims__); the grid must be a multiple of it
        x = (x + c.cluster() - 1) / c.cluster() * c.cluster();
        return new LaunchConfig(x, y, 1, c.threads(), 1, 1, c.smem());
    }

    private void gemm(Arena arena, String name, FiConfig c, LaunchConfig grid, long a, long aScales, int aStride,
                      int aByPos, int kReal, DeviceBuffer bq, DeviceBuffer bs, DeviceBuffer bias, int nReal, int nPad,
                      int kPad, int splits, long out, int outStride, long topkW) {
        launch(name, grid, KernelArgs.builder().pointer(a).pointer(aScales).i32(aStride).i32(spec.topK()).i32(aByPos)
                .i32(kReal).pointer(scratch.sorted()).pointer(scratch.tileExpert()).pointer(scratch.numTiles()).pointer(bq)
                .pointer(bs).pointer(bias == null ? 0L : bias.address()).i32(nReal).i32(nPad).i32(kPad).i32(splits)
                .pointer(out).i32(outStride).pointer(topkW).i32(act.code()).f32(act.alpha()).f32(act.limit()).pointer(0L).build(arena));
    }

    /** Repacks one GEMM's canonical weights into the padded layout (one thread per byte of {@code q}). */
    void repack(long blocks, long scales, int nReal, int kReal, int nPad, int kPad, long q, long s, long qBytes) {
        try (Arena arena = Arena.ofConfined()) {
            launch("fi_repack_mxfp4", LaunchConfig.covering(qBytes, 256), KernelArgs.builder().pointer(blocks)
                    .pointer(scales).i32(el).i32(nReal).i32(kReal).i32(nPad).i32(kPad).pointer(q).pointer(s)
                    .build(arena));
        }
    }

    /**
     * The families' repack from the padded layout: {@code fi_bf16_repack(q, s, El, N_pad, K_pad, q', s')}, or
     * {@code fi_fp8_repack(..., lossy)} which also counts (into {@code lossy}, two ints) the tiles and rows
     * whose scales span more binades than the wgmma path keeps exactly.
     */
    void familyRepack(long qIn, long sIn, int nPad, int kPad, long qOut, long sOut, long lossy) {
        FiFamily f = families.getFirst();
        try (Arena arena = Arena.ofConfined()) {
            KernelArgs.Builder b = KernelArgs.builder().pointer(qIn).pointer(sIn).i32(el).i32(nPad).i32(kPad)
                    .pointer(qOut).pointer(sOut);
            if (f.fp8()) {
                b.pointer(lossy);
            }
            launch(f.repack(), f.repackLaunch(el, nPad, kPad), b.build(arena));
        }
    }

    void launch(String name, LaunchConfig config, KernelArgs args) {
        image.launch(name, config, args);
    }

    /** Unloads the module. */
    @Override
    public void close() {
        image.close();
    }
}
