package io.moeoracle.tck;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.SimulatedDeviceCatalogue;
import io.moeoracle.api.spec.Activation;
import io.moeoracle.api.spec.ActivationFormat;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.api.spec.WeightFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The specs and devices the kit asks about: a small catalogue of runnable layers for the numerics,
 * random draws over the SPI's whole space for the honesty checks, and simulated devices.
 */
public final class KitSpecs {
    private KitSpecs() {
    }

    /**
     * Small layers covering both canonical weight formats, the three activation functions, with and
     * without biases and quantized activations; the kit runs the ones a provider supports.
     *
     * @return the catalogue, most common first
     */
    public static List<MoeLayerSpec> catalogue() {
        return List.of(
                spec(8, 2, 64, 64, QuantScheme.MXFP4_BF16, Activation.SWIGLU_OAI, true),
                spec(8, 2, 128, 64, QuantScheme.MXFP4_BF16, Activation.SILU, false),
                spec(8, 2, 64, 64, QuantScheme.BF16, Activation.SWIGLU_OAI, true),
                spec(6, 3, 96, 64, QuantScheme.BF16, Activation.SILU, false),
                spec(4, 1, 64, 32, QuantScheme.BF16, Activation.GELU, true),
                spec(8, 2, 64, 64, QuantScheme.MXFP4_MXFP8, Activation.SWIGLU_OAI, true),
                spec(4, 4, 32, 64, QuantScheme.MXFP4_BF16, Activation.GELU, false));
    }

    private static MoeLayerSpec spec(int e, int k, int h, int i, QuantScheme q, Activation act, boolean bias) {
        return MoeLayerSpec.builder().experts(e).topK(k).hiddenSize(h).intermediateSize(i).quant(q)
                .activation(act).hasBias(bias).maxTokensPerCall(256).build();
    }

    /**
     * A random spec over the SPI's whole space: every weight format and activation type, the three
     * activation functions, bias, LoRA, both token layouts, expert parallelism, top-k and shapes
     * (including sizes that are not multiples of 32 where the format allows them).
     *
     * @param rnd the source
     * @return a valid spec
     */
    public static MoeLayerSpec draw(SplittableRandom rnd) {
        WeightFormat[] formats = {WeightFormat.MXFP4, WeightFormat.BF16, WeightFormat.NVFP4, WeightFormat.FP8_BLOCK128,
                WeightFormat.int4Group(64)};
        WeightFormat wf = formats[rnd.nextInt(formats.length)];
        ActivationType[] types = ActivationType.values();
        ActivationType at = wf.isQuantized() ? types[rnd.nextInt(types.length)]
                : (rnd.nextBoolean() ? ActivationType.AUTO : ActivationType.BF16);
        Activation[] acts = {Activation.SWIGLU_OAI, Activation.SILU, Activation.GELU};
        int unit = Math.max(wf.blockSize(), at == ActivationType.MXFP8 ? 32 : 1);
        int h = unit == 1 ? new int[] {16, 48, 64, 96, 100, 128}[rnd.nextInt(6)] : unit * (1 + rnd.nextInt(4));
        int i = unit == 1 ? new int[] {16, 32, 64, 80, 128}[rnd.nextInt(5)] : unit * (1 + rnd.nextInt(4));
        int experts = 1 + rnd.nextInt(16);
        int k = 1 + rnd.nextInt(Math.min(experts, 4));
        int ep = experts % 2 == 0 && rnd.nextInt(5) == 0 ? 2 : 1;
        return MoeLayerSpec.builder().experts(experts).topK(k).hiddenSize(h).intermediateSize(i)
                .quant(new QuantScheme(wf, at)).activation(acts[rnd.nextInt(acts.length)]).hasBias(rnd.nextBoolean())
                .activationFormat(rnd.nextInt(4) == 0 ? ActivationFormat.BATCHED : ActivationFormat.STANDARD)
                .lora(rnd.nextInt(8) == 0).expertParallel(ep, ep == 1 ? 0 : rnd.nextInt(ep))
                .maxTokensPerCall(1 + rnd.nextInt(64)).build();
    }

    /**
     * What-if devices of every vendor (the api's built-in catalogue) plus a simulated twin of the
     * real device: a provider must judge all of them from their fields alone.
     *
     * @param real the device under test
     * @return simulated devices
     */
    public static List<DeviceInfo> simulated(DeviceInfo real) {
        List<DeviceInfo> out = new ArrayList<>();
        out.add(SimulatedDeviceCatalogue.device("kit-twin", real.vendor(), real.arch(), real.name(), real.computeUnits(),
                real.memoryBytes(), real.features()));
        out.addAll(SimulatedDeviceCatalogue.builtIn().devices());
        return List.copyOf(out);
    }

    /**
     * The catalogue's layers in the batched (expert-parallel) layout, for providers of that format.
     *
     * @return batched variants of {@link #catalogue()}
     */
    public static List<MoeLayerSpec> batchedCatalogue() {
        return catalogue().stream().map(s -> s.toBuilder().activationFormat(ActivationFormat.BATCHED)
                .maxTokensPerCall(32).build()).toList();
    }

    /** @return {@link #catalogue()} followed by {@link #batchedCatalogue()} */
    static List<MoeLayerSpec> bothCatalogues() {
        List<MoeLayerSpec> all = new ArrayList<>(catalogue());
        all.addAll(batchedCatalogue());
        return all;
    }

    /**
     * @param first the specs to keep first
     * @param rnd the source of the draws
     * @param draws how many {@link #draw}s to append
     * @return a new, mutable list: {@code first}, then the draws
     */
    static List<MoeLayerSpec> withDraws(List<MoeLayerSpec> first, SplittableRandom rnd, int draws) {
        List<MoeLayerSpec> specs = new ArrayList<>(first);
        for (int i = 0; i < draws; i++) {
            specs.add(draw(rnd));
        }
        return specs;
    }

    /**
     * @param real the device under test
     * @return {@link #simulated} of it, then the device itself
     */
    static List<DeviceInfo> simulatedAndReal(DeviceInfo real) {
        List<DeviceInfo> devices = new ArrayList<>(simulated(real));
        devices.add(real);
        return devices;
    }

    /**
     * @param spec a layer
     * @return whether the api has canonical weights for it (MXFP4 or BF16, no LoRA), so the kit can run it
     */
    static boolean hasCanonicalWeights(MoeLayerSpec spec) {
        WeightFormat.Kind k = spec.quant().weights().kind();
        return (k == WeightFormat.Kind.MXFP4 || k == WeightFormat.Kind.BF16) && !spec.lora();
    }
}
