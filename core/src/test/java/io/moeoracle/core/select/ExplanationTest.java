package io.moeoracle.core.select;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.HostAvailability;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.core.device.SimulatedDevices;
import io.moeoracle.core.discovery.ProviderRegistry;
import io.moeoracle.core.fixtures.FakeProvider;
import io.moeoracle.core.fixtures.Specs;
import io.moeoracle.core.internal.json.Json;
import io.moeoracle.core.select.Explanation.Row;
import io.moeoracle.core.select.Explanation.Status;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class ExplanationTest {
    private static final DeviceInfo SM90 = SimulatedDevices.get("sim:sm_90");
    private static final String NASTY = "quote \" backslash \\ newline\nnext\ttab \u0001 ctrl \u2028 sep é ü 日本 🙂 lone "
            + "\ud800 end";

    private static Explanation sample() {
        return new Explanation(Specs.gptOss120b(), SM90, Optional.empty(), List.of(
                new Row(1, "flashinfer-mxfp8", OptionalInt.of(120), Optional.of(ActivationType.MXFP8),
                        Status.UNSUPPORTED, "needs fp8 tensor cores", "use --activation bf16",
                        HostAvailability.no("libcuda missing"), "/x/flashinfer.jar"),
                new Row(2, "marlin", OptionalInt.of(100), Optional.of(ActivationType.BF16), Status.CHOSEN,
                        "W4A16 in registers", "", HostAvailability.yes(), "/x/marlin.jar"),
                new Row(3, "cpu", OptionalInt.of(-5), Optional.of(ActivationType.BF16), Status.SUPPORTED_NOT_CHOSEN,
                        "AVX-512", "", HostAvailability.yes("avx512_bf16"), "bound"),
                new Row(0, "x", OptionalInt.empty(), Optional.empty(), Status.EXCLUDED, "excluded by moe.exclude",
                        "", HostAvailability.no("not checked"), "bound"),
                new Row(0, "com.example.Broken", OptionalInt.empty(), Optional.empty(), Status.UNAVAILABLE,
                        "failed to load: boom\nsecond line", "fix the jar", HostAvailability.no("failed to load"),
                        "/x/broken.jar")));
    }

    @Test
    void theWinnerAndTheSummaryComeFromTheChosenRow() {
        Explanation e = sample();
        assertThat(e.winnerId()).contains("marlin");
        assertThat(e.summary()).isEqualTo("chosen: marlin");
        assertThat(e.hint()).isEmpty();
        assertThat(e.notInstalled()).isEmpty();
    }

    @Test
    void aFallbackIsTheWinnerAndSaysSo() {
        Explanation e = new Explanation(Specs.gptOss120b(), SimulatedDevices.get("sim:cpu-avx2"), Optional.empty(),
                List.of(new Row(1, "emulation", OptionalInt.of(-1000), Optional.of(ActivationType.BF16), Status.FALLBACK,
                        "float64 on the host", "", HostAvailability.yes(), "bound")),
                        List.of(new Row(0, "cpu", OptionalInt.of(100), Optional.of(ActivationType.BF16), Status.NOT_INSTALLED,
                                "add io.moeoracle:moe-oracle-backend-cpu (would run: C kernels)", "",
                                HostAvailability.no("not installed"), "catalogue of official backends")));
        assertThat(e.winnerId()).contains("emulation");
        assertThat(e.summary()).isEqualTo("chosen: emulation (fallback on the host)");
        assertThat(e.hint()).hasValueSatisfying(h -> assertThat(h).contains("fallback").contains("'not installed'"));
        assertThat(e.notInstalled()).extracting(Row::providerId).containsExactly("cpu");
        Map<?, ?> json = (Map<?, ?>) Json.parse(e.toJson());
        assertThat(json.get("winner")).isEqualTo("emulation");
        assertThat(((Map<?, ?>) ((List<?>) json.get("notInstalled")).getFirst()).get("status")).isEqualTo("not installed");
    }

    @Test
    void anEmptyExplanationSaysNoBackendCanRunItAndHowToAddOne() {
        Explanation e = new Explanation(Specs.gptOss120b(), SM90, Optional.empty(), List.of());
        assertThat(e.noBackends()).isTrue();
        assertThat(e.winnerId()).isEmpty();
        assertThat(e.summary()).isEqualTo("no backend can run this layer");
        assertThat(e.hint()).contains(Explanation.NO_BACKEND_HINT);
        Map<?, ?> json = (Map<?, ?>) Json.parse(e.toJson());
        assertThat(json.get("winner")).isNull();
        assertThat(json.get("rows")).isEqualTo(List.of());
        assertThat(json.get("hint")).isEqualTo(Explanation.NO_BACKEND_HINT);
    }

    @Test
    void aTableWithoutAWinnerPointsAtTheRemedies() {
        Explanation e = selectorOf(FakeProvider.unsupported("a", 1, "no", "do this")).explain(Specs.gptOss120b(), SM90);
        assertThat(e.noBackends()).isFalse();
        assertThat(e.summary()).isEqualTo("no backend can run this layer");
        assertThat(e.hint()).hasValueSatisfying(h -> assertThat(h).startsWith("apply one of the remedies"));
    }

    @Test
    void theRequestIsShownAboveTheTable() {
        Explanation e = new MoeKernelSelector(ProviderRegistry.builder().add(FakeProvider.supported("a", 1)).build(),
                new DefaultSelectionPolicy(), SelectionSettings.defaults().withBackend("a"))
                .explain(Specs.gptOss120b(), SM90);
        assertThat(e.request()).hasValueSatisfying(r -> assertThat(r.toString()).isEqualTo("a (system property moe.backend)"));
        Map<?, ?> json = (Map<?, ?>) Json.parse(e.toJson());
        assertThat(json.get("request")).isEqualTo(Map.of("backend", "a", "source", "system property moe.backend"));
    }

    @Test
    void theJsonIsValidAndCarriesEverything() {
        Map<?, ?> json = (Map<?, ?>) Json.parse(sample().toJson());
        assertThat(List.<Object>copyOf(json.keySet())).containsExactly("spec", "device", "request", "rows", "notInstalled", "winner",
                "hint");
        Map<?, ?> spec = (Map<?, ?>) json.get("spec");
        assertThat(spec.get("experts")).isEqualTo(128L);
        assertThat(spec.get("weightFormat")).isEqualTo("mxfp4");
        assertThat(spec.get("activationType")).isEqualTo("auto");
        assertThat(spec.get("hasBias")).isEqualTo(Boolean.TRUE);
        assertThat(spec.get("requestedBackend")).isNull();
        Map<?, ?> device = (Map<?, ?>) json.get("device");
        assertThat(device.get("id")).isEqualTo("sim:sm_90");
        assertThat(device.get("vendor")).isEqualTo("nvidia");
        assertThat(device.get("simulated")).isEqualTo(Boolean.TRUE);
        assertThat(List.<Object>copyOf((List<?>) device.get("features"))).contains("fp8", "wgmma");
        assertThat(json.get("request")).isNull();
        assertThat(json.get("winner")).isEqualTo("marlin");
        List<?> rows = (List<?>) json.get("rows");
        assertThat(rows).hasSize(5);
        Map<?, ?> first = (Map<?, ?>) rows.getFirst();
        assertThat(first.get("rank")).isEqualTo(1L);
        assertThat(first.get("backend")).isEqualTo("flashinfer-mxfp8");
        assertThat(first.get("priority")).isEqualTo(120L);
        assertThat(first.get("activationType")).isEqualTo("mxfp8");
        assertThat(first.get("status")).isEqualTo("unsupported");
        assertThat(first.get("remedy")).isEqualTo("use --activation bf16");
        assertThat(first.get("host")).isEqualTo(Map.of("available", false, "detail", "libcuda missing"));
        Map<?, ?> excluded = (Map<?, ?>) rows.get(3);
        assertThat(excluded.get("priority")).isNull();
        assertThat(excluded.get("activationType")).isNull();
        assertThat(excluded.get("remedy")).isNull();
        assertThat(((Map<?, ?>) rows.get(2)).get("priority")).isEqualTo(-5L);
    }

    @Test
    void stringsAreEscapedSoAnyTextRoundTrips() {
        Explanation e = new Explanation(Specs.gptOss120b().toBuilder().requestedBackend(NASTY).build(), SM90,
                Optional.empty(), List.of(new Row(1, NASTY, OptionalInt.of(1), Optional.empty(), Status.UNSUPPORTED,
                        NASTY, NASTY, HostAvailability.no(NASTY), NASTY)));
        String text = e.toJson();
        assertThat(text).doesNotContain("\n").doesNotContain("\u2028").contains("\\u2028").contains("\\ud800");
        Map<?, ?> json = (Map<?, ?>) Json.parse(text);
        Map<?, ?> row = (Map<?, ?>) ((List<?>) json.get("rows")).getFirst();
        assertThat(row.get("backend")).isEqualTo(NASTY);
        assertThat(row.get("reason")).isEqualTo(NASTY);
        assertThat(row.get("remedy")).isEqualTo(NASTY);
        assertThat(row.get("source")).isEqualTo(NASTY);
        assertThat(((Map<?, ?>) row.get("host")).get("detail")).isEqualTo(NASTY);
        assertThat(((Map<?, ?>) json.get("spec")).get("requestedBackend")).isEqualTo(NASTY);
    }

    @Test
    void theSelectorsExplanationRendersAsValidJson() {
        MoeKernelSelector s = selectorOf(FakeProvider.supported("b", 1),
                FakeProvider.unsupported("a", 5, "needs \"fp8\"", "use\\bf16"),
                FakeProvider.supported("c", 3).throwingFromIsSupported(new IllegalStateException("x\ny")));
        Explanation e = s.explain(Specs.gptOss120b(), SimulatedDevices.get("sim:cpu-avx2"));
        Map<?, ?> json = (Map<?, ?>) Json.parse(e.toJson());
        assertThat(json.get("winner")).isEqualTo("b");
        assertThat(((List<?>) json.get("rows")).stream().<Object>map(r -> ((Map<?, ?>) r).get("backend")).toList())
                .containsExactly("a", "c", "b");
    }

    private static MoeKernelSelector selectorOf(FakeProvider... ps) {
        return new MoeKernelSelector(ProviderRegistry.builder().addAll(List.of(ps)).build(),
                new DefaultSelectionPolicy(), SelectionSettings.defaults());
    }
}
