package io.moeoracle.reference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.error.KernelStateException;
import io.moeoracle.api.spec.ActivationFormat;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.api.spec.WeightFormat;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import java.lang.foreign.Arena;
import java.util.ServiceLoader;
import java.util.Set;
import org.junit.jupiter.api.Test;

class EmulationProviderTest {
    private static final long SEED = System.nanoTime();
    private static final DeviceInfo CPU = new DeviceInfo("cpu", Vendor.CPU, "x86-64-avx2", "test cpu", 2, 1L << 33,
            Set.of(), false);
    private static final DeviceInfo H100 = new DeviceInfo("sim:sm_90", Vendor.NVIDIA, "sm_90", "H100", 132, 80L << 30,
            Set.of(), true);
    private static final MoeLayerSpec SPEC = MoeLayerSpec.builder().experts(4).topK(2).hiddenSize(64)
            .intermediateSize(32).build();

    private final EmulationProvider provider = new EmulationProvider();

    @Test
    void isDiscoverableWithTheLowestPriority() {
        assertThat(ServiceLoader.load(MoeKernelProvider.class).stream().map(p -> p.get().id()))
                .contains(EmulationProvider.ID);
        assertThat(provider.priority(SPEC, CPU)).isEqualTo(-1000);
        assertThat(provider.description()).contains("float64").contains("slow");
        // host-side: the selector never hands it a GPU layer unless it is requested by id
        assertThat(provider.runsOnHost()).isTrue();
    }

    @Test
    void supportsMxfp4AndBf16OnAnyDevice() {
        for (DeviceInfo d : new DeviceInfo[] {CPU, H100}) {
            for (QuantScheme q : new QuantScheme[] {QuantScheme.MXFP4_AUTO, QuantScheme.MXFP4_MXFP8, QuantScheme.BF16}) {
                SupportVerdict v = provider.isSupported(SPEC.toBuilder().quant(q).build(), d);
                assertThat(v.isSupported()).as("%s on %s", q, d.id()).isTrue();
                assertThat(((SupportVerdict.Supported) v).note()).contains("slow");
            }
        }
        assertThat(((SupportVerdict.Supported) provider.isSupported(SPEC.toBuilder().quant(QuantScheme.MXFP4_MXFP8)
                .build(), CPU)).note()).contains("mxfp8 activations emulated");
    }

    @Test
    void rejectsWhatTheReferenceCannotDoWithReasonAndRemedy() {
        MoeLayerSpec[] bad = {
            SPEC.toBuilder().quant(new QuantScheme(WeightFormat.NVFP4, io.moeoracle.api.spec.ActivationType.AUTO)).build(),
            SPEC.toBuilder().activationFormat(ActivationFormat.BATCHED).build(),
        };
        String[] reasons = {"nvfp4", "BATCHED"};
        for (int i = 0; i < bad.length; i++) {
            SupportVerdict v = provider.isSupported(bad[i], CPU);
            assertThat(v).isInstanceOf(SupportVerdict.Unsupported.class);
            SupportVerdict.Unsupported u = (SupportVerdict.Unsupported) v;
            assertThat(u.reason()).contains(reasons[i]);
            assertThat(u.remedy()).isNotBlank();
            int j = i;
            assertThatThrownBy(() -> provider.create(bad[j], CPU)).hasMessageContaining(reasons[i]);
        }
    }

    @Test
    void kernelRunsTheReference() {
        try (Arena arena = Arena.ofConfined()) {
            MoeKernel k = provider.create(SPEC, CPU);
            MoeWeights w = RandomMoe.weights(SPEC, SEED, arena);
            HostTensor hidden = RandomMoe.hidden(5, 64, DType.BF16, SEED, arena);
            Routing r = Routing.logits(RandomMoe.routerLogits(5, 4, SEED, arena));
            HostTensor out = HostTensor.allocate(arena, DType.BF16, 5, 64);
            assertThatThrownBy(() -> k.forward(hidden, r, out)).isInstanceOf(KernelStateException.class)
                    .hasMessageContaining("prepare");
            assertThat(k.isPrepared()).isFalse();
            k.prepare(w);
            assertThat(k.isPrepared()).isTrue();
            assertThat(k.providerId()).isEqualTo("emulation");
            k.forward(hidden, r, out);
            HostTensor expected = HostTensor.allocate(arena, DType.F32, 5, 64);
            ReferenceMoe.forward(SPEC, w, hidden, r, expected);
            assertThat(RelativeError.l2(out, expected)).as("seed %d", SEED).isLessThan(1e-2);
            HostTensor wrong = HostTensor.allocate(arena, DType.BF16, 5, 32);
            assertThatThrownBy(() -> k.forward(hidden, r, wrong)).isInstanceOf(BadInputException.class);
            MoeLayerSpec other = SPEC.toBuilder().intermediateSize(64).build();
            assertThatThrownBy(() -> k.prepare(RandomMoe.weights(other, SEED, arena)))
                    .isInstanceOf(BadInputException.class).hasMessageContaining("w13");
            k.close();
            assertThatThrownBy(() -> k.forward(hidden, r, out)).isInstanceOf(KernelStateException.class)
                    .hasMessageContaining("closed");
        }
    }
}
