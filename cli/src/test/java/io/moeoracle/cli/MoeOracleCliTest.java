package io.moeoracle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MoeOracleCliTest {

    record Outcome(int code, String out, String err) {
    }

    static Outcome cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = MoeOracleCli.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Outcome(code, out.toString(), err.toString());
    }

    @Nested
    @DisplayName("explain")
    class Explain {
        @Test
        @DisplayName("prints a table of verdicts and the winner for gpt-oss-120b on a simulated H100")
        void table() {
            Outcome o = cli("explain", "--model", "gpt-oss-120b", "--quant", "mxfp4", "--device", "sim:sm_90");
            assertThat(o.code()).as(o.err()).isZero();
            assertThat(o.out()).contains("backend").contains("verdict").contains("sim:sm_90")
                    .containsPattern("(?m)^chosen: \\S+|no backend");
            // the cpu backend is on this class path and must explain why it cannot take a GPU device
            assertThat(o.out()).containsPattern("cpu\\s+.*unsupported");
        }

        @Test
        @DisplayName("--json prints one JSON document with the rows and the winner")
        void json() {
            // the document's grammar is core's concern (ExplanationTest parses it); here: the CLI prints it whole
            Outcome o = cli("explain", "--model", "gpt-oss-120b", "--quant", "mxfp4", "--device", "sim:sm_90", "--json");
            assertThat(o.code()).as(o.err()).isZero();
            String doc = o.out().strip();
            assertThat(doc).startsWith("{\"spec\":{").endsWith("}").doesNotContain("\n")
                    .contains("\"device\":{\"id\":\"sim:sm_90\"", "\"rows\":[{\"rank\":1,", "\"winner\":");
        }

        @Test
        @DisplayName("--lora: a GPU backend (marlin) on a simulated H100, cpu on an AVX-512 CPU; rank and slots carried")
        void loraChoosesMarlinOnH100AndCpuOnAvx512() {
            Outcome gpu = cli("explain", "--model", "gpt-oss-120b", "--quant", "mxfp4", "--lora", "--device", "sim:sm_90");
            assertThat(gpu.code()).as(gpu.out() + gpu.err()).isZero();
            assertThat(gpu.out()).contains("chosen: marlin");
            assertThat(gpu.out().replaceAll("\\s+", " ")).contains("LoRA up to rank 16 in 4 slots");
            Outcome cpu = cli("explain", "--model", "gpt-oss-120b", "--quant", "mxfp4", "--lora", "--lora-rank", "64",
                    "--lora-slots", "2", "--device", "sim:cpu-avx512", "--json");
            assertThat(cpu.code()).as(cpu.out() + cpu.err()).isZero();
            assertThat(cpu.out()).contains("\"lora\":true,\"maxLoraRank\":64,\"adapterSlots\":2")
                    .contains("\"winner\":\"cpu\"");
        }

        @Test
        @DisplayName("on an AVX-512 CPU, cpu is chosen and emulation is listed below it")
        void cpuChosenEmulationBelow() {
            Outcome o = cli("explain", "--model", "gpt-oss-20b", "--quant", "mxfp4", "--device", "sim:cpu-avx512");
            assertThat(o.code()).as(o.err()).isZero();
            assertThat(o.out()).contains("chosen: cpu");
            assertThat(o.out().indexOf("emulation")).isGreaterThan(o.out().indexOf(" cpu "));
        }

        @Test
        @DisplayName("with MXFP8 activations, cpu says why not and emulation is chosen instead")
        void mxfp8() {
            Outcome o = cli("explain", "--model", "gpt-oss-20b", "--activation", "mxfp8", "--device", "sim:cpu-avx512");
            assertThat(o.code()).as(o.err()).isZero();
            assertThat(o.out()).containsPattern("cpu\\s+\\S+\\s+mxfp8\\s+unsupported\\s+mxfp8 activations")
                    .contains("chosen: emulation (fallback on the host)");
        }
    }

    @Nested
    @DisplayName("no silent fallback to the host")
    class NoSilentFallback {
        @Test
        @DisplayName("gpt-oss-120b on a simulated MI300X: aiter is chosen, aiter-fp8 says why not")
        void gfx942() {
            Outcome o = cli("explain", "--model", "gpt-oss-120b", "--quant", "mxfp4", "--device", "sim:gfx942");
            assertThat(o.code()).as(o.out() + o.err()).isZero();
            assertThat(o.out()).contains("chosen: aiter")
                    .containsPattern("aiter-fp8\\s+300\\s+fp8-per-token\\s+unsupported\\s+aiter-fp8 \\(W4A8\\) is enabled on gfx950")
                    .doesNotContainPattern("(?m)^\\S+\\s+emulation\\s+\\S+\\s+\\S+\\s+chosen");
        }

        @Test
        @DisplayName("FP8 activations on a simulated MI355X: aiter-fp8 runs, aiter says why not")
        void gfx950Fp8() {
            Outcome o = cli("explain", "--model", "gpt-oss-120b", "--quant", "mxfp4", "--activation", "fp8-per-token",
                    "--device", "sim:gfx950");
            assertThat(o.code()).as(o.out() + o.err()).isZero();
            assertThat(o.out()).contains("chosen: aiter-fp8")
                    .containsPattern("aiter\\s+300\\s+fp8-per-token\\s+unsupported\\s+aiter keeps activations in BF16");
        }

        @Test
        @DisplayName("MXFP8 activations on a simulated MI300X: no emulation, exit 3")
        void mxfp8OnGfx942() {
            Outcome o = cli("explain", "--model", "gpt-oss-120b", "--activation", "mxfp8", "--device", "sim:gfx942");
            assertThat(o.code()).as(o.out() + o.err()).isEqualTo(MoeOracleCli.EXIT_NO_KERNEL);
            assertThat(o.out()).doesNotContainPattern("(?m)^\\S+\\s+emulation\\s+\\S+\\s+\\S+\\s+chosen")
                    .contains("no backend can run this layer");
        }

        @Test
        @DisplayName("MXFP8 activations on a simulated A100: no emulation, exit 3; flashinfer-mxfp8 names FP8 tensor cores")
        void mxfp8OnA100() {
            Outcome o = cli("explain", "--model", "gpt-oss-120b", "--activation", "mxfp8", "--device", "sim:sm_80",
                    "--json");
            assertThat(o.code()).as(o.out() + o.err()).isEqualTo(MoeOracleCli.EXIT_NO_KERNEL);
            String doc = o.out().strip();
            assertThat(doc).contains("\"winner\":null", "\"notInstalled\":[]");
            assertThat(Flashinfer.row(doc, "flashinfer-mxfp8")).contains("\"status\":\"unsupported\"")
                    .contains("FP8 tensor cores");
        }

        @ParameterizedTest
        @ValueSource(strings = {"sim:gfx942", "sim:gfx950", "sim:sm_90", "sim:sm_100", "sim:xe-hpc", "sim:cpu-avx2"})
        @DisplayName("--backend emulation still works everywhere")
        void emulationOnRequest(String device) {
            Outcome o = cli("explain", "--model", "gpt-oss-120b", "--activation", "mxfp8", "--device", device,
                    "--backend", "emulation");
            assertThat(o.code()).as(o.out() + o.err()).isZero();
            assertThat(o.out()).contains("chosen: emulation").doesNotContain("fallback");
        }
    }

    @Nested
    @DisplayName("flashinfer on simulated NVIDIA GPUs (issue 11's explain acceptance)")
    class Flashinfer {
        /** The JSON object of one backend's row of an explanation document (rows never nest braces but the host's). */
        static String row(String doc, String backend) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\{\"rank\":\\d+,\"backend\":\"" + backend
                    + "\",[^{}]*\\{[^{}]*\\}[^{}]*\\}").matcher(doc);
            assertThat(m.find()).as("a row for " + backend + " in " + doc).isTrue();
            return m.group();
        }

        private static String explain(String activation, String device) {
            Outcome o = cli("explain", "--model", "gpt-oss-120b", "--quant", "mxfp4", "--activation", activation,
                    "--device", device, "--json");
            assertThat(o.code()).as(o.out() + o.err()).isZero();
            return o.out().strip();
        }

        @Test
        @DisplayName("--activation mxfp8 on sim:sm_90 chooses flashinfer-mxfp8 (wgmma e4m3)")
        void mxfp8OnH100() {
            String doc = explain("mxfp8", "sim:sm_90");
            assertThat(doc).contains("\"winner\":\"flashinfer-mxfp8\"");
            assertThat(row(doc, "flashinfer-mxfp8")).contains("\"status\":\"chosen\"", "wgmma e4m3");
            assertThat(row(doc, "marlin")).contains("\"status\":\"unsupported\"");
            Outcome table = cli("explain", "--model", "gpt-oss-120b", "--quant", "mxfp4", "--activation", "mxfp8",
                    "--device", "sim:sm_90");
            assertThat(table.out()).contains("chosen: flashinfer-mxfp8");
        }

        @Test
        @DisplayName("--activation auto on sim:sm_90: a BF16-activation backend wins; flashinfer-mxfp8 supported, after it")
        void autoPrefersBf16OnH100() {
            String doc = explain("auto", "sim:sm_90");
            java.util.regex.Matcher w = java.util.regex.Pattern.compile("\"winner\":\"([^\"]+)\"").matcher(doc);
            assertThat(w.find()).as(doc).isTrue();
            String winner = row(doc, w.group(1));
            assertThat(winner).contains("\"activationType\":\"bf16\"", "\"status\":\"chosen\"");
            assertThat(row(doc, "flashinfer-mxfp8")).contains("\"activationType\":\"mxfp8\"",
                    "\"status\":\"supported\"");
            assertThat(row(doc, "flashinfer-bf16")).contains("\"activationType\":\"bf16\"");
        }

        @Test
        @DisplayName("sim:sm_100: flashinfer-mxfp8 runs through PTX and says it is not validated there")
        void mxfp8OnB200() {
            String doc = explain("mxfp8", "sim:sm_100");
            assertThat(doc).contains("\"winner\":\"flashinfer-mxfp8\"");
            assertThat(row(doc, "flashinfer-mxfp8")).contains("runs through PTX", "not validated on this generation");
        }

        @Test
        @DisplayName("sim:sm_89: flashinfer-bf16 is refused naming wgmma and sm_90a; flashinfer-mxfp8 runs mma.sync")
        void adaRefusesWgmma() {
            String doc = explain("auto", "sim:sm_89");
            assertThat(row(doc, "flashinfer-bf16")).contains("\"status\":\"unsupported\"", "wgmma", "sm_90a");
            assertThat(row(explain("mxfp8", "sim:sm_89"), "flashinfer-mxfp8")).contains("\"status\":\"chosen\"",
                    "mma.sync");
        }
    }

    @Nested
    @DisplayName("bad input exits with 2 and one paragraph, never a stack trace")
    class BadInput {
        private void onParagraph(Outcome o, String... mentions) {
            assertThat(o.code()).isEqualTo(2);
            assertThat(o.err()).doesNotContain("\tat ").doesNotContain("Exception:");
            assertThat(o.err().strip()).doesNotContain("\n\n");
            assertThat(o.err()).contains(mentions);
        }

        @Test
        void invalidSpec() {
            onParagraph(cli("explain", "--model", "gpt-oss-20b", "--hidden", "2881"),
                    "hiddenSize 2881 must be a multiple of 32 for MXFP4");
        }

        @Test
        void unknownBackend() {
            onParagraph(cli("explain", "--model", "gpt-oss-20b", "--backend", "nope"), "'nope'", "cpu", "emulation");
        }

        @Test
        void unknownSimulatedDevice() {
            onParagraph(cli("explain", "--model", "gpt-oss-20b", "--device", "sim:sm_91"), "sim:sm_91", "sim:sm_90",
                    "moe-oracle devices");
        }

        @Test
        void unknownModel() {
            onParagraph(cli("explain", "--model", "gpt-oss-7b"), "gpt-oss-7b", "gpt-oss-20b");
        }

        @Test
        void noLayerGiven() {
            onParagraph(cli("explain", "--experts", "8"), "--model", "--top-k");
        }

        @ParameterizedTest
        @ValueSource(strings = {"--quant=fp3", "--activation=int2", "--act-fn=relu"})
        void unknownNames(String option) {
            Outcome o = cli("explain", "--model", "gpt-oss-20b", option);
            onParagraph(o, option.substring(option.indexOf('=') + 1));
        }

        @Test
        void unknownOption() {
            onParagraph(cli("explain", "--frobnicate"), "--frobnicate");
        }

        @Test
        void missingWeightsFile() {
            onParagraph(cli("run", "--experts", "4", "--top-k", "2", "--hidden", "64", "--intermediate", "64",
                    "--device", "cpu", "--weights", "/nonexistent/model.safetensors"), "/nonexistent/model.safetensors");
        }
    }

    @Test
    @DisplayName("run prepares random weights, runs on the CPU and checks against the reference")
    void run() {
        Outcome o = cli("run", "--experts", "8", "--top-k", "2", "--hidden", "128", "--intermediate", "96",
                "--tokens", "7", "--iterations", "3", "--device", "cpu");
        assertThat(o.code()).as(o.err() + o.out()).isZero();
        assertThat(o.out()).contains("chosen:").containsPattern("median \\d+\\.\\d us")
                .containsPattern("relative L2 error vs float64 reference: \\d\\.\\d+e-\\d+");
    }

    @Test
    @DisplayName("run takes a checkpoint's layer and its router from a safetensors file")
    void runWithCheckpoint(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        var spec = io.moeoracle.api.spec.MoeLayerSpec.builder().experts(4).topK(2).hiddenSize(64)
                .intermediateSize(96).build();
        java.nio.file.Path file = dir.resolve("model.safetensors");
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            long seed = System.nanoTime();
            var w = io.moeoracle.reference.RandomMoe.weights(spec, seed, arena);
            var router = io.moeoracle.reference.RandomMoe.hidden(4, 64, io.moeoracle.api.tensor.DType.BF16,
                    seed + 1, arena);
            var routerBias = io.moeoracle.reference.RandomMoe.hidden(1, 4, io.moeoracle.api.tensor.DType.BF16,
                    seed + 2, arena).reshape(4);
            String l = "model.layers.3.mlp.";
            new io.moeoracle.core.weights.SafetensorsWriter()
                    .add(l + "experts.gate_up_proj_blocks", w.w13().reshape(4, 192, 2, 16))
                    .add(l + "experts.gate_up_proj_scales", w.w13Scales().orElseThrow())
                    .add(l + "experts.gate_up_proj_bias", w.w13Bias().orElseThrow())
                    .add(l + "experts.down_proj_blocks", w.w2().reshape(4, 64, 3, 16))
                    .add(l + "experts.down_proj_scales", w.w2Scales().orElseThrow())
                    .add(l + "experts.down_proj_bias", w.w2Bias().orElseThrow())
                    .add(l + "router.weight", router)
                    .add(l + "router.bias", routerBias)
                    .write(file);
        }
        Outcome o = cli("run", "--experts", "4", "--top-k", "2", "--hidden", "64", "--intermediate", "96",
                "--weights", file.toString(), "--layer", "3", "--tokens", "9", "--iterations", "2", "--device", "cpu");
        assertThat(o.code()).as(o.err() + o.out()).isZero();
        assertThat(o.out()).contains("chosen: cpu").contains("mapping " + file)
                .containsPattern("relative L2 error vs float64 reference: \\d\\.\\d+e-\\d+");
        Outcome missingLayer = cli("run", "--experts", "4", "--top-k", "2", "--hidden", "64", "--intermediate", "96",
                "--weights", file.toString(), "--layer", "5", "--device", "cpu");
        assertThat(missingLayer.code()).isEqualTo(2);
        assertThat(missingLayer.err()).contains("layer 5").contains("[3]");
    }

    @Test
    @DisplayName("bench prints one row per token count with its roofline ratio")
    void bench() {
        Outcome o = cli("bench", "--experts", "8", "--top-k", "2", "--hidden", "128", "--intermediate", "96",
                "--tokens", "1,16", "--iterations", "3", "--warmup", "1", "--device", "cpu", "--no-save");
        assertThat(o.code()).as(o.err() + o.out()).isZero();
        assertThat(o.out()).containsPattern("(?m)^\\s*1\\s").containsPattern("(?m)^\\s*16\\s");
    }

    @Test
    @DisplayName("devices lists the CPU and the simulated devices")
    void devices() {
        Outcome o = cli("devices");
        assertThat(o.code()).as(o.err()).isZero();
        assertThat(o.out()).contains("cpu:").contains("sim:sm_90")
                .contains("driver " + io.moeoracle.api.device.HostCpuFeatures.operatingSystem());
    }

    @Nested
    @DisplayName("--policy")
    class Policy {
        @Test
        @DisplayName("measured times the candidates on the CPU and shows the times beside the verdicts")
        void measuredOnTheCpu(@org.junit.jupiter.api.io.TempDir java.nio.file.Path cache) {
            System.setProperty("moe.measure.cacheDir", cache.toString());
            try {
                Outcome o = cli("explain", "--policy", "measured", "--experts", "8", "--top-k", "2", "--hidden", "128",
                        "--intermediate", "96", "--max-tokens", "4", "--device", "cpu");
                assertThat(o.code()).as(o.err() + o.out()).isZero();
                assertThat(o.out()).contains("measured (", "T=1", "T=4", "µs*", "reference error");
                assertThat(cache.toFile().list()).anyMatch(n -> n.startsWith("measured-") && n.endsWith(".json"));
            } finally {
                System.clearProperty("moe.measure.cacheDir");
            }
        }

        @Test
        @DisplayName("measured refuses a simulated device, saying what to use instead")
        void measuredRefusesSimulated() {
            Outcome o = cli("explain", "--policy", "measured", "--model", "gpt-oss-20b", "--device", "sim:sm_90");
            assertThat(o.code()).isNotZero();
            assertThat(o.err()).contains("simulated device", "--policy default");
        }

        @Test
        @DisplayName("an unknown policy is an error naming the known ones")
        void unknown() {
            Outcome o = cli("explain", "--policy", "fastest-guess", "--model", "gpt-oss-20b", "--device", "cpu");
            assertThat(o.code()).isNotZero();
            assertThat(o.err()).contains("no selection policy named 'fastest-guess'", "measured");
        }
    }
}
