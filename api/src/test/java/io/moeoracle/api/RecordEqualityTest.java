package io.moeoracle.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.device.DeviceAddress;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.api.spec.Activation;
import io.moeoracle.api.spec.ActivationFormat;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.api.spec.WeightFormat;
import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The records whose {@code equals} and {@code hashCode} are written out (so that a fresh JVM's first
 * select does not bootstrap them through {@code ObjectMethods}) still mean what the generated ones
 * meant: every component counts. For each record, one variant per component differs from a base in
 * that component alone; a component added later without a variant here fails the first check.
 */
class RecordEqualityTest {

    private static final MoeLayerSpec BASE_SPEC = MoeLayerSpec.builder().experts(32).topK(4).hiddenSize(2880)
            .intermediateSize(2880).build();
    private static final DeviceInfo BASE_DEVICE = new DeviceInfo("cuda:0", Vendor.NVIDIA, "sm_90", "H100", 132, 80L << 30,
            Set.of("fp8"), false, new DeviceAddress.Cuda(0, Optional.of("abcd")), List.of(new DeviceAddress.OpenCl(1, 0,
            Optional.of("abcd"))));

    @Test
    @DisplayName("MoeLayerSpec: each component alone changes equality and the hash")
    void spec() throws Exception {
        Map<String, Object> variants = new LinkedHashMap<>();
        variants.put("experts", BASE_SPEC.toBuilder().experts(64).build());
        variants.put("topK", BASE_SPEC.toBuilder().topK(2).build());
        variants.put("hiddenSize", BASE_SPEC.toBuilder().hiddenSize(2048).build());
        variants.put("intermediateSize", BASE_SPEC.toBuilder().intermediateSize(1024).build());
        variants.put("quant", BASE_SPEC.toBuilder().quant(QuantScheme.MXFP4_BF16).build());
        variants.put("activation", BASE_SPEC.toBuilder().activation(Activation.SILU).build());
        variants.put("hasBias", BASE_SPEC.toBuilder().hasBias(false).build());
        variants.put("activationFormat", BASE_SPEC.toBuilder().activationFormat(ActivationFormat.BATCHED).build());
        // lora is true exactly when adapterSlots > 0, so it cannot change alone; this variant changes it with them
        variants.put("lora", BASE_SPEC.toBuilder().lora(true).build());
        variants.put("maxLoraRank", BASE_SPEC.toBuilder().lora(8, 4).build());
        variants.put("adapterSlots", BASE_SPEC.toBuilder().lora(16, 2).build());
        variants.put("expertParallelSize", BASE_SPEC.toBuilder().expertParallel(2, 0).build());
        variants.put("expertParallelRank", BASE_SPEC.toBuilder().expertParallel(2, 1).build());
        variants.put("maxTokensPerCall", BASE_SPEC.toBuilder().maxTokensPerCall(16).build());
        variants.put("requestedBackend", BASE_SPEC.toBuilder().requestedBackend("cpu").build());
        // the LoRA variants are compared with a LoRA base, so that each differs in its own component
        MoeLayerSpec loraBase = BASE_SPEC.toBuilder().lora(16, 4).build();
        check(BASE_SPEC, variants, Map.of("maxLoraRank", loraBase, "adapterSlots", loraBase,
                "expertParallelRank", BASE_SPEC.toBuilder().expertParallel(2, 0).build()));
    }

    @Test
    @DisplayName("DeviceInfo: each component alone changes equality and the hash")
    void device() throws Exception {
        Map<String, Object> variants = new LinkedHashMap<>();
        variants.put("id", new DeviceInfo("cuda:1", Vendor.NVIDIA, "sm_90", "H100", 132, 80L << 30, Set.of("fp8"), false,
                new DeviceAddress.Cuda(1, Optional.of("abcd")), BASE_DEVICE.aliases()));
        variants.put("vendor", with(BASE_DEVICE, "vendor", Vendor.AMD));
        variants.put("arch", with(BASE_DEVICE, "arch", "sm_80"));
        variants.put("name", with(BASE_DEVICE, "name", "A100"));
        variants.put("computeUnits", with(BASE_DEVICE, "computeUnits", 108));
        variants.put("memoryBytes", with(BASE_DEVICE, "memoryBytes", 40L << 30));
        variants.put("features", with(BASE_DEVICE, "features", Set.of("fp8", "tma")));
        variants.put("simulated", with(BASE_DEVICE, "simulated", true));
        variants.put("address", with(BASE_DEVICE, "address", new DeviceAddress.Cuda(0, Optional.of("ef01"))));
        variants.put("aliases", BASE_DEVICE.withAliases(List.of()));
        variants.put("driverVersion", BASE_DEVICE.withDriverVersion("CUDA 13.0"));
        check(BASE_DEVICE, variants, Map.of());
    }

    @Test
    @DisplayName("QuantScheme, WeightFormat, SwigluOai and the device addresses: each component counts")
    void smallRecords() throws Exception {
        check(QuantScheme.MXFP4_AUTO, Map.of("weights", new QuantScheme(WeightFormat.NVFP4, ActivationType.AUTO),
                "activations", QuantScheme.MXFP4_MXFP8), Map.of());
        check(WeightFormat.int4Group(32), Map.of("kind", WeightFormat.MXFP4, "groupSize", WeightFormat.int4Group(64)),
                Map.of());
        Activation.SwigluOai swiglu = new Activation.SwigluOai(1.702, 7.0);
        check(swiglu, Map.of("alpha", new Activation.SwigluOai(1.5, 7.0), "limit",
                new Activation.SwigluOai(1.702, Double.POSITIVE_INFINITY)), Map.of());
        DeviceAddress.Cuda cuda = new DeviceAddress.Cuda(0, Optional.of("ab"));
        check(cuda, Map.of("ordinal", new DeviceAddress.Cuda(1, Optional.of("ab")), "uuid",
                new DeviceAddress.Cuda(0, Optional.empty())), Map.of());
        check(new DeviceAddress.Hip(0, Optional.of("ab")), Map.of("ordinal", new DeviceAddress.Hip(1, Optional.of("ab")),
                "uuid", new DeviceAddress.Hip(0, Optional.empty())), Map.of());
        check(new DeviceAddress.OpenCl(0, 0, Optional.empty()), Map.of("platform", new DeviceAddress.OpenCl(1, 0,
                Optional.empty()), "index", new DeviceAddress.OpenCl(0, 1, Optional.empty()), "uuid",
                new DeviceAddress.OpenCl(0, 0, Optional.of("ab"))), Map.of());
        check(new DeviceAddress.Simulated("sm_90"), Map.of("name", new DeviceAddress.Simulated("sm_80")), Map.of());
        check(new DeviceAddress.Other("tpu:0"), Map.of("id", new DeviceAddress.Other("tpu:1")), Map.of());
        // component-less records: equal to each other, not to another kind
        assertThat(new DeviceAddress.Host()).isEqualTo(new DeviceAddress.Host()).hasSameHashCodeAs(new DeviceAddress.Host());
        assertThat(new Activation.Silu()).isEqualTo(Activation.SILU).isNotEqualTo(Activation.GELU);
        assertThat(new Activation.Gelu()).isEqualTo(Activation.GELU).hasSameHashCodeAs(Activation.GELU);
        assertThat((Object) new DeviceAddress.Host()).isNotEqualTo(new DeviceAddress.Other("cpu"));
    }

    /**
     * @param base the record
     * @param variants component name to a record differing from the base (or from {@code bases}'s entry) in it alone
     * @param bases per component, another base to compare that variant with
     */
    private static void check(Record base, Map<String, Object> variants, Map<String, Object> bases) throws Exception {
        RecordComponent[] components = base.getClass().getRecordComponents();
        assertThat(variants.keySet()).as("a variant for every component of " + base.getClass().getSimpleName())
                .containsExactlyInAnyOrderElementsOf(Arrays.stream(components).map(RecordComponent::getName).toList());
        Record copy = copyOf(base);
        assertThat(copy).isNotSameAs(base).isEqualTo(base).hasSameHashCodeAs(base);
        assertThat(base).isNotEqualTo(null).isNotEqualTo("not a record");
        for (Map.Entry<String, Object> v : variants.entrySet()) {
            Object against = bases.getOrDefault(v.getKey(), base);
            assertThat(v.getValue()).as(v.getKey()).isNotNull();
            assertThat(differingComponents((Record) against, (Record) v.getValue())).as(v.getKey())
                    .contains(v.getKey());
            assertThat(v.getValue()).as(v.getKey() + " differs").isNotEqualTo(against);
            assertThat(against).as(v.getKey() + " differs, the other way").isNotEqualTo(v.getValue());
            assertThat(v.getValue().hashCode()).as(v.getKey() + " changes the hash").isNotEqualTo(against.hashCode());
            assertThat(copyOf((Record) v.getValue())).isEqualTo(v.getValue()).hasSameHashCodeAs(v.getValue());
        }
    }

    private static List<String> differingComponents(Record a, Record b) throws Exception {
        List<String> out = new java.util.ArrayList<>();
        for (RecordComponent c : a.getClass().getRecordComponents()) {
            if (!java.util.Objects.equals(c.getAccessor().invoke(a), c.getAccessor().invoke(b))) {
                out.add(c.getName());
            }
        }
        return out;
    }

    /** A new instance through the canonical constructor, with the same component values. */
    private static Record copyOf(Record r) throws Exception {
        RecordComponent[] components = r.getClass().getRecordComponents();
        Class<?>[] types = Arrays.stream(components).map(RecordComponent::getType).toArray(Class<?>[]::new);
        Object[] values = new Object[components.length];
        for (int i = 0; i < components.length; i++) {
            components[i].getAccessor().setAccessible(true);
            values[i] = components[i].getAccessor().invoke(r);
        }
        Constructor<?> canonical = r.getClass().getDeclaredConstructor(types);
        canonical.setAccessible(true);
        return (Record) canonical.newInstance(values);
    }

    private static DeviceInfo with(DeviceInfo d, String component, Object value) throws Exception {
        RecordComponent[] components = DeviceInfo.class.getRecordComponents();
        Class<?>[] types = Arrays.stream(components).map(RecordComponent::getType).toArray(Class<?>[]::new);
        Object[] values = new Object[components.length];
        for (int i = 0; i < components.length; i++) {
            values[i] = components[i].getName().equals(component) ? value : components[i].getAccessor().invoke(d);
        }
        return DeviceInfo.class.getDeclaredConstructor(types).newInstance(values);
    }
}
