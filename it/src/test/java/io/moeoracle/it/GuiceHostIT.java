package io.moeoracle.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.inject.AbstractModule;
import com.google.inject.Guice;
import com.google.inject.Injector;
import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.backend.cpu.CpuIsa;
import io.moeoracle.backend.cpu.CpuMoeKernel;
import io.moeoracle.backend.cpu.CpuMoeProvider;
import io.moeoracle.backend.cpu.CpuOptions;
import io.moeoracle.backend.cpu.HostCpu;
import io.moeoracle.core.device.SimulatedDevices;
import io.moeoracle.core.select.MoeKernelSelector;
import io.moeoracle.core.select.Selection;
import io.moeoracle.core.weights.ModelConfig;
import io.moeoracle.guice.MoeOracleModule;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** A host application gets the selector from its injector and adds its own backend by Multibinder. */
class GuiceHostIT {

    /** The host's in-house backend, bound in code rather than found on the class path. */
    static final class HostBackend implements MoeKernelProvider {
        @Override
        public String id() {
            return "host-inhouse";
        }

        @Override
        public int priority(MoeLayerSpec spec, DeviceInfo device) {
            return 5_000_000;
        }

        @Override
        public SupportVerdict isSupported(MoeLayerSpec spec, DeviceInfo device) {
            return device.simulated() && device.arch().equals("sm_90")
                    ? SupportVerdict.supported("host's own kernel")
                    : SupportVerdict.unsupported("only for sm_90", "use sim:sm_90");
        }

        @Override
        public MoeKernel create(MoeLayerSpec spec, DeviceInfo device) {
            throw new UnsupportedOperationException("selection fixture");
        }
    }

    @Test
    @DisplayName("the injector's selector is a singleton and sees a provider added by Multibinder")
    void hostAddsProviderByMultibinder() {
        Injector injector = Guice.createInjector(new MoeOracleModule(), new AbstractModule() {
            @Override
            protected void configure() {
                MoeOracleModule.providers(binder()).addBinding().to(HostBackend.class);
            }
        });
        MoeKernelSelector selector = injector.getInstance(MoeKernelSelector.class);
        assertThat(injector.getInstance(MoeKernelSelector.class)).isSameAs(selector);

        MoeLayerSpec spec = ModelConfig.preset("gpt-oss-120b");
        Selection onHopper = selector.select(spec, SimulatedDevices.get("sim:sm_90"));
        assertThat(onHopper.winner().id()).isEqualTo("host-inhouse");
        assertThat(selector.explain(spec, SimulatedDevices.get("sim:sm_80")).winnerId())
                .isNotEqualTo(java.util.Optional.of("host-inhouse"));
    }

    @Test
    @DisplayName("a configured cpu provider bound by the host replaces the one ServiceLoader finds in the cpu jar")
    void aBoundConfiguredCpuProviderReplacesTheDiscoveredOne() {
        CpuMoeProvider configured = new CpuMoeProvider(CpuOptions.builder().threads(1).isa(CpuIsa.SCALAR).build());
        Injector injector = Guice.createInjector(new MoeOracleModule(), new AbstractModule() {
            @Override
            protected void configure() {
                MoeOracleModule.providers(binder()).addBinding().toInstance(configured);
            }
        });
        MoeKernelSelector selector = injector.getInstance(MoeKernelSelector.class);
        assertThat(selector.registry().providers()).filteredOn(r -> r.id().equals(CpuMoeProvider.ID)).hasSize(1);
        assertThat(selector.registry().find(CpuMoeProvider.ID)).containsSame(configured);
        assertThat(selector.registry().findRegistered(CpuMoeProvider.ID).orElseThrow().source()).isEqualTo("bound");

        MoeLayerSpec small = MoeLayerSpec.builder().experts(4).topK(2).hiddenSize(64).intermediateSize(64)
                .quant(QuantScheme.MXFP4_BF16).build();
        Selection onHost = selector.select(small, HostCpu.device());
        assertThat(onHost.winner()).isSameAs(configured);
        try (MoeKernel kernel = onHost.createKernel()) {
            assertThat(kernel.providerId()).isEqualTo(CpuMoeProvider.ID);
            assertThat(((CpuMoeKernel) kernel).isa()).isEqualTo(CpuIsa.SCALAR); // the configured ISA, not the host's best
        }
    }
}
