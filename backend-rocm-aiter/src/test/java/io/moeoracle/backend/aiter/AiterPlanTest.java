package io.moeoracle.backend.aiter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The host-side arithmetic of one forward: block bounds, scratch sizes, grids, and argument lists vs the kernel source. */
class AiterPlanTest {
    private static final MoeLayerSpec GPT_OSS_120B = MoeLayerSpec.builder().experts(128).topK(4).hiddenSize(2880)
            .intermediateSize(2880).quant(QuantScheme.MXFP4_BF16).hasBias(true).maxTokensPerCall(4096).build();

    @Test
    void maxBlocksBoundsEveryAssignmentAndIsReached() {
        assertThat(AiterPlan.maxBlocks(0, 8)).isZero();
        assertThat(AiterPlan.maxBlocks(1, 8)).isEqualTo(1);
        assertThat(AiterPlan.maxBlocks(32, 1)).isEqualTo(1);
        assertThat(AiterPlan.maxBlocks(33, 1)).isEqualTo(2);
        assertThat(AiterPlan.maxBlocks(8, 8)).isEqualTo(8); // one assignment per expert: 8 padded blocks
        SplittableRandom rnd = new SplittableRandom(7);
        for (int trial = 0; trial < 2000; trial++) {
            int el = 1 + rnd.nextInt(64);
            int slots = rnd.nextInt(3000);
            int[] count = new int[el];
            for (int s = 0; s < slots; s++) {
                count[rnd.nextInt(1 + rnd.nextInt(el))]++; // skewed: low experts get more
            }
            int blocks = 0;
            for (int c : count) {
                blocks += (c + AiterPlan.BM - 1) / AiterPlan.BM;
            }
            assertThat(blocks).as("el=%d slots=%d", el, slots).isLessThanOrEqualTo(AiterPlan.maxBlocks(slots, el));
        }
        // the worst case is reached: min(El, slots) - 1 experts with one assignment, the rest on one expert
        int el = 16;
        int slots = 1000;
        int worst = (el - 1) + (slots - (el - 1) + AiterPlan.BM - 1) / AiterPlan.BM;
        assertThat(AiterPlan.maxBlocks(slots, el)).isGreaterThanOrEqualTo(worst).isLessThanOrEqualTo(worst + 1);
    }

    @Test
    void scratchSizesForGptOss120b() {
        AiterPlan plan = new AiterPlan(GPT_OSS_120B, false, 64);
        AiterPlan.Scratch s = plan.scratch(64);
        int blocks = AiterPlan.maxBlocks(256, 128); // (256 + 128*31) / 32 = 132
        assertThat(blocks).isEqualTo(132);
        assertThat(s.ids()).isEqualTo(256 * 4);
        assertThat(s.sorted()).isEqualTo(132L * 32 * 4);
        assertThat(s.blockExpert()).isEqualTo(132L * 4);
        assertThat(s.inter()).isEqualTo(132L * 32 * 2880 * 4);
        assertThat(s.y()).isEqualTo(256L * 2880 * 4);
        assertThat(s.xq() + s.xs() + s.interq() + s.inters()).as("no FP8 buffers for BF16 activations").isZero();
        AiterPlan.Scratch f = new AiterPlan(GPT_OSS_120B, true, 64).scratch(64);
        assertThat(f.xq()).isEqualTo(64L * 2880);
        assertThat(f.xs()).isEqualTo(64L * 4);
        assertThat(f.interq()).isEqualTo(132L * 32 * 2880);
        assertThat(f.inters()).isEqualTo(132L * 32 * 4);
    }

    @Test
    void launchesAndGridsBf16() {
        AiterPlan plan = new AiterPlan(GPT_OSS_120B, false, 64);
        List<AiterPlan.Launch> l = plan.launches(100, buffers(true));
        assertThat(l).extracting(AiterPlan.Launch::kernel)
                .containsExactly("moe_topk_softmax", "moe_align", "moe_gemm1_bf16", "moe_gemm2_bf16", "moe_reduce");
        int blocks = AiterPlan.maxBlocks(400, 128);
        assertThat(l.get(0).gridX()).isEqualTo(2); // 100 tokens, 64 a block
        assertThat(l.get(1)).extracting(AiterPlan.Launch::gridX, AiterPlan.Launch::block).containsExactly(1, 256);
        assertThat(l.get(2)).extracting(AiterPlan.Launch::gridX, AiterPlan.Launch::gridY, AiterPlan.Launch::block)
                .containsExactly(2 * 2880 / 32, blocks, 64);
        assertThat(l.get(3)).extracting(AiterPlan.Launch::gridX, AiterPlan.Launch::gridY)
                .containsExactly(2880 / 32, blocks);
        assertThat(l.get(4).gridX()).isEqualTo((100 * 2880 + 255) / 256);
        assertThat(new AiterPlan(GPT_OSS_120B, false, 32).launches(100, buffers(false)))
                .extracting(AiterPlan.Launch::kernel).doesNotContain("moe_topk_softmax");
        assertThat(new AiterPlan(GPT_OSS_120B, false, 32).launches(100, buffers(false)).get(0).block())
                .as("the alignment block does not depend on the wave size").isEqualTo(256);
    }

    @Test
    void launchesFp8QuantizeBothGemmInputs() {
        AiterPlan plan = new AiterPlan(GPT_OSS_120B.toBuilder().quant(new QuantScheme(
                QuantScheme.MXFP4_BF16.weights(), ActivationType.FP8_PER_TOKEN)).build(), true, 64);
        List<AiterPlan.Launch> l = plan.launches(10, buffers(true));
        assertThat(l).extracting(AiterPlan.Launch::kernel).containsExactly("moe_topk_softmax", "moe_align",
                "moe_quant_rows", "moe_gemm1_fp8", "moe_quant_rows", "moe_gemm2_fp8", "moe_reduce");
        assertThat(l.get(2).gridX()).as("one block per token").isEqualTo(10);
        assertThat(l.get(4).gridX()).as("one block per padded row").isEqualTo(AiterPlan.maxBlocks(40, 128) * 32);
    }

    @Test
    void expertParallelRankPassesItsFirstExpert() {
        MoeLayerSpec ep = GPT_OSS_120B.toBuilder().expertParallel(4, 2).build();
        AiterPlan.Launch align = new AiterPlan(ep, false, 64).launches(8, buffers(true)).get(1);
        assertThat(align.args().get(2)).isEqualTo(new AiterPlan.Arg.I32(64)); // first = rank * El = 2 * 32
        assertThat(align.args().get(3)).isEqualTo(new AiterPlan.Arg.I32(32));
    }

    @Test
    void waveSizeMustBe32Or64() {
        assertThatThrownBy(() -> new AiterPlan(GPT_OSS_120B, false, 16)).hasMessageContaining("32 or 64");
    }

    /** Every launch passes exactly the parameters its kernel declares in aiter_moe.hip: count and kind. */
    @Test
    void argumentListsMatchTheKernelSignatures() throws IOException {
        String src = Files.readString(Path.of("src/main/hip/aiter_moe.hip"));
        Matcher macro = Pattern.compile("#define MOE_GEMM_PARAMS (.*?[^\\\\])\\n", Pattern.DOTALL).matcher(src);
        assertThat(macro.find()).isTrue();
        String gemmParams = macro.group(1).replace("\\\n", " ");
        for (boolean fp8 : new boolean[] {false, true}) {
            for (AiterPlan.Launch launch : new AiterPlan(GPT_OSS_120B, fp8, 64).launches(3, buffers(true))) {
                Matcher m = Pattern.compile("extern \"C\" __global__ void " + launch.kernel() + "\\((.*?)\\)",
                        Pattern.DOTALL).matcher(src);
                assertThat(m.find()).as("kernel " + launch.kernel() + " in aiter_moe.hip").isTrue();
                String params = m.group(1).equals("MOE_GEMM_PARAMS") ? gemmParams : m.group(1);
                List<String> kinds = new ArrayList<>();
                for (String p : params.split(",")) {
                    String t = p.trim();
                    kinds.add(t.contains("*") ? "Ptr" : t.startsWith("float") ? "F32" : t.startsWith("int") ? "I32" : t);
                }
                assertThat(launch.args()).extracting(a -> a.getClass().getSimpleName()).as(launch.kernel())
                        .containsExactlyElementsOf(kinds);
            }
        }
    }

    /** The HIP kernel hands the plan's arguments to hipModuleLaunchKernel in order, each in its own slot. */
    @Test
    void hipArgumentsFollowThePlan() {
        AiterPlan.Launch gemm = new AiterPlan(GPT_OSS_120B, false, 64).launches(3, buffers(true)).get(2);
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            io.moeoracle.driver.hip.HipKernelArgs args = AiterKernel.args(gemm.args(), arena);
            assertThat(args.count()).isEqualTo(17);
            assertThat(args.describe()).startsWith("(0x1000, 0, 0x0, 0x4000, 0x5000, 0x6000, 0, 0xc000, 0xd000, 0xe000")
                    .endsWith(", 2880, 5760, 4, 0, 1.702f, 7.0f, 0xf000)");
        }
    }

    private static AiterPlan.Buffers buffers(boolean logits) {
        return new AiterPlan.Buffers(0x1000, false, logits ? 0x2000 : 0, false, 0x3000, false, 0x4000, 0x5000,
                0x6000, false, 0x7000, 0x8000, 0x9000, false, 0xA000, 0xB000, 0xC000, 0xD000, 0xE000, 0xF000,
                0x10000, 0x11000, 0x12000, 0x13000, 0x14000);
    }
}
