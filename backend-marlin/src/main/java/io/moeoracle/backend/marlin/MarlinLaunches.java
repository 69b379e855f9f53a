package io.moeoracle.backend.marlin;

import io.moeoracle.api.device.DeviceInfo;
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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The loaded kernel image of one marlin kernel and the launches both formats share: the two GEMMs and
 * the weight repack here; routing, alignment (rows sorted by expert, padded to the M tile), the final
 * conversion and the F32-to-BF16 conversion of the activations through cuda-moe's {@link RoutingLaunches}
 * ({@link #routing}). Every launch goes to the kernel's stream; callers hold the kernel's lock.
 */
final class MarlinLaunches implements AutoCloseable {
    private static final int DEFAULT_SMEM_LIMIT = 48 * 1024;
    /** The GEMM variants with the LoRA epilogue: {@code moe_gemm1_m16_lora} etc. (the plain ones have no LoRA code). */
    static final String LORA_SUFFIX = "_lora";
    /** The image's prefix of the functions cuda-moe's {@link RoutingLaunches} launches. */
    static final String PREFIX = "moe_";

    private final MoeLayerSpec spec;
    private final DeviceInfo device;
    private final CudaContext context;
    private final CudaStream stream;
    private final LoadedImage image;
    private final MarlinScratch scratch;
    private final MarlinWeights weights;
    /** Routing, alignment, zeroing, finalize and the F32-to-BF16 conversion ({@code moe_} functions). */
    final RoutingLaunches routing;
    private final int[] gemmSmem = new int[MarlinPlan.M_TILES.length];
    private final int[] gemmThreads = new int[MarlinPlan.M_TILES.length];
    private final int sms;
    private final int hp;
    private final int ip;
    private final int el;
    private final EpilogueActivation act;
    private int forcedM;

    /** Takes the loaded image (closed by {@link #close}); {@link #loadFunctions} must follow. */
    MarlinLaunches(MoeLayerSpec spec, DeviceInfo device, CudaContext context, CudaStream stream, CudaModule module,
                   int sms, MarlinScratch scratch, MarlinWeights weights) {
        this.spec = spec;
        this.image = new LoadedImage(module, stream);
        this.device = device;
        this.context = context;
        this.stream = stream;
        this.scratch = scratch;
        this.weights = weights;
        this.sms = sms;
        this.hp = MarlinLayout.pad(spec.hiddenSize());
        this.ip = MarlinLayout.pad(spec.intermediateSize());
        this.el = spec.localExperts();
        this.act = EpilogueActivation.of(spec.activation());
        this.routing = new RoutingLaunches(PREFIX, spec, scratch, image::launch);
    }

    /** Looks up every function and reads the tile configurations the image was built with. */
    void loadFunctions(int smemOptin) {
        List<String> names = new ArrayList<>(RoutingLaunches.functions(PREFIX));
        names.addAll(List.of("moe_repack_mxfp4", "moe_lora_shrink", "moe_lora_shrink_q1"));
        image.load(names);
        try (DeviceBuffer cfg = context.allocate(3 * 4); Arena arena = Arena.ofConfined()) {
            for (int i = 0; i < MarlinPlan.M_TILES.length; i++) {
                int m = MarlinPlan.M_TILES[i];
                CudaFunction probe = image.function("moe_gemm1_m" + m + "_config");
                probe.launch(LaunchConfig.of(1, 1), stream, KernelArgs.builder().pointer(cfg).build(arena));
                stream.synchronize();
                MemorySegment host = arena.allocate(12, 4);
                cfg.copyToHost(host);
                gemmSmem[i] = host.getAtIndex(ValueLayout.JAVA_INT, 0);
                gemmThreads[i] = host.getAtIndex(ValueLayout.JAVA_INT, 1);
                int mm = host.getAtIndex(ValueLayout.JAVA_INT, 2);
                if (mm != m) {
                    throw new NativeFailureException("moe_gemm1_m" + m + "_config", "", "reports M=" + mm,
                            "the fatbin's moe_gemm1_m" + m + " reports M=" + mm + "; the jar's kernel image does not"
                            + " match this class: rebuild backend-marlin", null);
                }
                if (gemmSmem[i] > smemOptin) {
                    throw new NativeFailureException("moe_gemm1_m" + m + "_config", "", "needs " + gemmSmem[i]
                            + " bytes of shared memory per block", "moe_gemm_m" + m + " needs " + gemmSmem[i]
                            + " bytes of shared memory per block; " + device.describe() + " allows " + smemOptin, null);
                }
                for (String g : new String[] {"moe_gemm1_m" + m, "moe_gemm2_m" + m, "moe_gemm1_m" + m + LORA_SUFFIX,
                    "moe_gemm2_m" + m + LORA_SUFFIX}) {
                    CudaFunction f = image.function(g);
                    if (gemmSmem[i] > DEFAULT_SMEM_LIMIT) {
                        f.setMaxDynamicSharedMemory(gemmSmem[i]);
                    }
                    image.keep(f);
                }
            }
        }
    }

    MarlinPlan plan(long rows, int standardTokens) {
        int m = forcedM != 0 ? forcedM : MarlinPlan.chooseM(rows, el);
        return MarlinPlan.of(rows, el, hp, ip, gemmSmem[mIndex(m)], sms, standardTokens, m);
    }

    /** Forces the M tile for later calls, or 0 to choose by size. */
    void forceM(int m) {
        if (m != 0) {
            mIndex(m);
        }
        forcedM = m;
    }

    void launchGemms(Arena arena, MarlinPlan plan, long hidden, int aDiv, long topkW) {
        launchGemm1(arena, plan, hidden, aDiv, MarlinLora.Terms.NONE);
        launchGemm2(arena, plan, aDiv, topkW, MarlinLora.Terms.NONE);
    }

    /**
     * GEMM1 (+ bias, + the LoRA gate/up expand, + activation) into the intermediate; with LoRA its epilogue
     * also adds the down shrink of its columns into {@code lora.u2()}.
     */
    void launchGemm1(Arena arena, MarlinPlan plan, long hidden, int aDiv, MarlinLora.Terms lora) {
        int mi = mIndex(plan.m());
        long b13p = weights.b13 == null ? 0 : weights.b13.address();
        int h = spec.hiddenSize();
        int i = spec.intermediateSize();
        launch("moe_gemm1_m" + plan.m() + suffix(lora), new LaunchConfig(2 * ip / MarlinLayout.TILE, plan.tilesMax(), 1,
                gemmThreads[mi], 1, 1, gemmSmem[mi]), KernelArgs.builder().pointer(hidden).i32(h).i32(aDiv).i32(0)
                .i32(h).pointer(scratch.sorted()).pointer(scratch.tileExpert()).pointer(scratch.numTiles())
                .pointer(weights.q13).pointer(weights.sc13).pointer(b13p).i32(2 * i).i32(2 * ip).i32(hp).i32(1)
                .pointer(scratch.inter()).i32(ip).pointer(0L).i32(act.code()).f32(act.alpha()).f32(act.limit())
                .f32(Math.scalb(1f, weights.x13)).pointer(lora.table()).pointer(lora.rowSlot()).pointer(lora.u13())
                .pointer(lora.u2()).i32(lora.rmax()).build(arena));
    }

    /** GEMM2 (+ bias, + the LoRA down expand, times the routing weight) into acc. */
    void launchGemm2(Arena arena, MarlinPlan plan, int aDiv, long topkW, MarlinLora.Terms lora) {
        int mi = mIndex(plan.m());
        long b2p = weights.b2 == null ? 0 : weights.b2.address();
        int h = spec.hiddenSize();
        launch("moe_gemm2_m" + plan.m() + suffix(lora), new LaunchConfig(hp / MarlinLayout.TILE, plan.tilesMax(), plan.splits(),
                gemmThreads[mi], 1, 1, gemmSmem[mi]), KernelArgs.builder().pointer(scratch.inter()).i32(ip).i32(aDiv)
                .i32(1).i32(ip).pointer(scratch.sorted()).pointer(scratch.tileExpert()).pointer(scratch.numTiles())
                .pointer(weights.q2).pointer(weights.sc2).pointer(b2p).i32(h).i32(hp).i32(ip).i32(plan.splits())
                .pointer(scratch.acc()).i32(h).pointer(topkW).i32(act.code()).f32(act.alpha()).f32(act.limit())
                .f32(Math.scalb(1f, weights.x2)).pointer(lora.table()).pointer(lora.rowSlot()).pointer(lora.u13())
                .pointer(lora.u2()).i32(lora.rmax()).build(arena));
    }

    private static String suffix(MarlinLora.Terms lora) {
        return lora.table() == 0 ? "" : LORA_SUFFIX;
    }

    void launch(String name, LaunchConfig config, KernelArgs args) {
        image.launch(name, config, args);
    }

    private static int mIndex(int m) {
        for (int i = 0; i < MarlinPlan.M_TILES.length; i++) {
            if (MarlinPlan.M_TILES[i] == m) {
                return i;
            }
        }
        throw new IllegalArgumentException("M tile " + m + " is not one of " + Arrays.toString(MarlinPlan.M_TILES));
    }

    /** Unloads the module. */
    @Override
    public void close() {
        image.close();
    }
}
