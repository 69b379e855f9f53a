package io.moeoracle.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.Priority;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.ActivationFormat;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.api.spec.WeightFormat;
import io.moeoracle.core.device.SimulatedDevices;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Core's catalogue of official backends (official-backends.tsv) states each backend's priority for the
 * devices it serves; the providers declare theirs in code. Both must agree, and lie in a band of
 * {@link Priority}, or an explanation's "a better backend exists" row would lie.
 */
class OfficialBackendPrioritiesTest {
    private static final String RESOURCE = "/io/moeoracle/core/select/official-backends.tsv";

    /** One catalogue row: the fields this test reads. */
    private record Row(String id, boolean released, String vendor, String archs, String weights, String activations,
                       String formats, int priority) {
    }

    /** The first simulated device of the row's vendor whose arch its rule names (sm_NN+, a list, a prefix*, *). */
    private static DeviceInfo servedDevice(Row r) {
        for (DeviceInfo d : SimulatedDevices.all()) {
            if (!d.vendor().name().equalsIgnoreCase(r.vendor())) {
                continue;
            }
            for (String rule : r.archs().split(",")) {
                String a = rule.trim();
                boolean match = a.equals("*") || a.equals(d.arch())
                        || (a.endsWith("*") && d.arch().startsWith(a.substring(0, a.length() - 1)))
                        || (a.startsWith("sm_") && a.endsWith("+") && d.smVersion().isPresent()
                            && d.smVersion().getAsInt() >= Integer.parseInt(a.substring(3, a.length() - 1)));
                if (match) {
                    return d;
                }
            }
        }
        throw new AssertionError("no simulated device serves " + r);
    }

    private static List<Row> rows() throws IOException {
        List<Row> rows = new ArrayList<>();
        try (InputStream in = SimulatedDevices.class.getResourceAsStream(RESOURCE)) {
            assertThat(in).as(RESOURCE).isNotNull();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] f = line.split("\\|");
                rows.add(new Row(f[0].trim(), f[2].trim().equals("released"), f[3].trim(), f[4].trim(), f[5].trim(),
                        f[6].trim(), f[7].trim(), Integer.parseInt(f[8].trim())));
            }
        }
        return rows;
    }

    @Test
    void everyCataloguedPriorityLiesInABand() throws IOException {
        List<Row> rows = rows();
        assertThat(rows).hasSizeGreaterThanOrEqualTo(4);
        for (Row r : rows) {
            assertThat(Priority.bandOf(r.priority())).as("band of %s's %d", r.id(), r.priority()).isPresent();
        }
    }

    @Test
    void eachReleasedBackendDeclaresTheCataloguedPriorityOnTheDevicesItServes() throws IOException {
        Map<String, MoeKernelProvider> providers = ServiceLoader.load(MoeKernelProvider.class).stream()
                .map(ServiceLoader.Provider::get).collect(Collectors.toMap(MoeKernelProvider::id, Function.identity()));
        int checked = 0;
        for (Row r : rows()) {
            if (!r.released()) {
                continue;
            }
            MoeKernelProvider p = providers.get(r.id());
            assertThat(p).as("released backend %s on the it class path", r.id()).isNotNull();
            DeviceInfo device = servedDevice(r);
            MoeLayerSpec.Builder b = MoeLayerSpec.builder().experts(32).topK(4).hiddenSize(2880).intermediateSize(2880)
                    .quant(new QuantScheme(WeightFormat.parse(r.weights().split(",")[0]),
                            ActivationType.parse(r.activations().split(",")[0])));
            if (r.formats().equals("batched")) {
                b.activationFormat(ActivationFormat.BATCHED).expertParallel(4, 0).maxTokensPerCall(256);
            }
            MoeLayerSpec spec = b.build();
            SupportVerdict v = p.isSupported(spec, device);
            assertThat(v.isSupported()).as("%s on %s: %s", r.id(), device.id(), v).isTrue();
            assertThat(p.priority(spec, device)).as("%s's priority on %s", r.id(), device.id()).isEqualTo(r.priority());
            checked++;
        }
        assertThat(checked).isGreaterThanOrEqualTo(4);
    }
}
