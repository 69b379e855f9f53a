package io.moeoracle.backend.triton;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The committed AOT artifacts match the Triton sources they were compiled from (SHA-256 recorded in
 * the manifest) and carry what the Java launcher needs. Runs everywhere; no GPU, no Triton.
 */
class TritonArtifactsTest {
    private static final Path SOURCES = Path.of("src/main/triton");

    @Test
    void everySourceHashMatchesTheManifest() throws IOException, NoSuchAlgorithmException {
        Map<String, String> recorded = TritonImage.sourceHashes();
        assertThat(recorded).containsKeys("moe_kernels.py", "aot.py");
        for (Map.Entry<String, String> e : recorded.entrySet()) {
            byte[] bytes = Files.readAllBytes(SOURCES.resolve(e.getKey()));
            String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
            assertThat(sha).as("SHA-256 of src/main/triton/%s no longer matches the committed artifacts: rerun "
                    + "src/main/triton/aot.py on a machine with Triton %s (README.md)", e.getKey(),
                    TritonImage.tritonVersion()).isEqualTo(e.getValue());
        }
    }

    @Test
    void everyVariantTheLauncherLoadsIsPackedForSm90aAndSm80() {
        assertThat(TritonImage.tritonVersion()).startsWith("3.6");
        for (String arch : new String[] {TritonImage.SM90, TritonImage.SM80}) {
            for (String v : launcherVariants()) {
                KernelMeta m = TritonImage.meta(v, arch);
                assertThat(m.variant()).isEqualTo(v);
                assertThat(m.arch()).isEqualTo(arch);
                assertThat(TritonImage.cubin(v, arch)).as(v + " " + arch).startsWith(0x7f, 'E', 'L', 'F');
                assertThat(m.clusterDims()).containsExactly(1, 1, 1);
                assertThat(m.numWarps()).isBetween(1, 32);
            }
        }
    }

    @Test
    void metadataParametersMatchThePtxEntrySignature() throws IOException {
        Pattern param = Pattern.compile("\\.param\\s+\\.(\\w+)");
        for (String v : launcherVariants()) {
            KernelMeta m = TritonImage.meta(v, TritonImage.SM90);
            String ptx = new String(Files.readAllBytes(Path.of("src/main/resources", TritonImage.FOLDER,
                    v + ".sm_90a.ptx")), StandardCharsets.UTF_8);
            int start = ptx.indexOf(".entry " + m.entry() + "(");
            assertThat(start).as(v).isPositive();
            String sig = ptx.substring(start, ptx.indexOf(')', start));
            Matcher pm = param.matcher(sig);
            int i = 0;
            while (pm.find()) {
                String t = m.params().get(i);
                String ptxType = pm.group(1);
                assertThat(t.startsWith("*") ? "u64" : switch (t) {
                    case "i32" -> "u32";
                    case "fp32" -> "f32";
                    default -> "u64";
                }).as("%s param %d (%s)", v, i, m.paramNames().get(i)).isEqualTo(ptxType.replace("b", "u")
                        .replace("s32", "u32").replace("s64", "u64"));
                i++;
            }
            assertThat(i).as(v + " parameter count").isEqualTo(m.params().size());
            // Triton 3.6 appends two scratch pointers (global, profile) after the kernel's own arguments
            assertThat(m.params().subList(m.ownParams(), m.params().size())).containsExactly("*scratch", "*scratch");
        }
        KernelMeta gemm = TritonImage.meta("moe_gemm2_prefill", TritonImage.SM90);
        assertThat(gemm.ownParams()).isEqualTo(23);
        assertThat(gemm.paramNames().subList(0, 4)).containsExactly("a_ptr", "stride_a", "a_div", "KA");
        assertThat(gemm.constant("GEMM2")).isEqualTo(1);
        assertThat(gemm.paramNames().subList(18, 23)).containsExactly("alpha", "limit", "acc_scale", "k_split",
                "stride_split");
        assertThat(TritonImage.meta("moe_repack_s", TritonImage.SM90).paramNames()).contains("shift");
        // the decode bucket splits K (measured: 136 vs 157 us at T=1, README.md); its GEMMs write FP32 slabs
        KernelMeta split = TritonImage.meta("moe_gemm2_split_decode", TritonImage.SM90);
        assertThat(split.constant("SPLIT")).isEqualTo(TritonImage.split("decode", "g2")).isGreaterThan(1);
        assertThat(split.params().get(split.paramNames().indexOf("c_ptr"))).isEqualTo("*fp32");
        assertThatThrownBy(() -> gemm.constant("NOPE")).hasMessageContaining("no constexpr NOPE");
    }

    @Test
    void miniJsonReadsWhatAotWritesAndRejectsGarbage() {
        Object v = MiniJson.parse("{\"a\": [1, 2.5, \"x\\\"y\", true, null], \"b\": {}}", "test");
        assertThat(v).isInstanceOf(Map.class);
        @SuppressWarnings("unchecked")
        List<Object> a = (List<Object>) ((Map<String, Object>) v).get("a");
        assertThat(a).containsExactly(1L, 2.5, "x\"y", true, MiniJson.NULL);
        assertThatThrownBy(() -> MiniJson.parse("{\"a\": }", "broken.json")).hasMessageContaining("broken.json")
                .hasMessageContaining("aot.py");
    }

    static List<String> launcherVariants() {
        List<String> v = new java.util.ArrayList<>(List.of("moe_f32_to_bf16", "moe_repack_q", "moe_repack_s",
                "moe_act_swiglu", "moe_act_silu", "moe_act_gelu", "moe_reduce_bf16", "moe_reduce_f32"));
        for (String cls : new String[] {"e256", "e1024"}) {
            v.add("moe_route_bf16_" + cls);
            v.add("moe_route_f32_" + cls);
            for (String b : TritonPlan.BUCKETS) {
                v.add("moe_align_" + b + "_" + cls);
            }
        }
        for (String b : TritonPlan.BUCKETS) {
            if (TritonImage.split(b, "g1") > 1) {
                v.add("moe_gemm1_split_" + b);
            } else {
                v.add("moe_gemm1_swiglu_" + b);
                v.add("moe_gemm1_raw_" + b);
            }
            v.add((TritonImage.split(b, "g2") > 1 ? "moe_gemm2_split_" : "moe_gemm2_") + b);
        }
        for (String a : new String[] {"swiglu", "silu", "gelu"}) {
            v.add("moe_act_split_" + a);
        }
        v.add("moe_reduce_split_bf16");
        v.add("moe_reduce_split_f32");
        return v;
    }
}
