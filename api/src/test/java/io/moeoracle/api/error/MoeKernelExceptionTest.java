package io.moeoracle.api.error;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.Priority;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.SimulatedDeviceCatalogue;
import io.moeoracle.api.spec.MoeLayerSpec;
import org.junit.jupiter.api.Test;

class MoeKernelExceptionTest {
    private static final MoeLayerSpec SPEC = MoeLayerSpec.builder().experts(8).topK(2).hiddenSize(64)
            .intermediateSize(64).build();
    private static final DeviceInfo SM90 = SimulatedDeviceCatalogue.builtIn().devices().get(2);

    /** Supports nothing: create must refuse with the verdict's words. */
    private static final class Refusing implements MoeKernelProvider {
        @Override
        public String id() {
            return "refusing";
        }

        @Override
        public int priority(MoeLayerSpec spec, DeviceInfo device) {
            return Priority.PORTABLE;
        }

        @Override
        public SupportVerdict isSupported(MoeLayerSpec spec, DeviceInfo device) {
            return SupportVerdict.unsupported("refusing runs nothing", "use another backend");
        }

        @Override
        public MoeKernel create(MoeLayerSpec spec, DeviceInfo device) {
            SupportVerdict.requireSupported(this, spec, device);
            throw new AssertionError("unreachable");
        }
    }

    @Test
    void createOnAnUnsupportedVerdictThrowsItsReasonAndRemedy() {
        assertThatThrownBy(() -> new Refusing().create(SPEC, SM90))
                .isInstanceOfSatisfying(UnsupportedSpecException.class, e -> {
                    assertThat(e.providerId()).isEqualTo("refusing");
                    assertThat(e.reason()).isEqualTo("refusing runs nothing");
                    assertThat(e.remedy()).isEqualTo("use another backend");
                    assertThat(e.getMessage()).contains("refusing cannot run E=8", "sim:sm_90",
                            "refusing runs nothing", "(use another backend)");
                })
                .isInstanceOf(MoeKernelException.class);
    }

    @Test
    void aNativeFailureNamesTheCallItsArgumentsAndTheDriversText() {
        var e = new NativeFailureException("cuMemAlloc_v2", "bytesize=1024", "out of memory");
        assertThat(e.getMessage()).isEqualTo("cuMemAlloc_v2(bytesize=1024) failed: out of memory");
        assertThat(e.call()).isEqualTo("cuMemAlloc_v2");
        assertThat(e.arguments()).isEqualTo("bytesize=1024");
        assertThat(e.driverText()).isEqualTo("out of memory");
    }

    @Test
    void aNativeErrorCodeIsNamedAndDescribedAndTheDriversAdditionFollows() {
        var e = new NativeErrorCodeException("hipMalloc", "size=64", 2, "hipErrorOutOfMemory", "out of memory",
                " (free device memory)");
        assertThat(e.getMessage()).isEqualTo("hipMalloc(size=64) failed: hipErrorOutOfMemory (2): out of memory"
                + " (free device memory)");
        assertThat(e.driverText()).isEqualTo("hipErrorOutOfMemory (2): out of memory");
        assertThat(e.call()).isEqualTo("hipMalloc");
        assertThat(e.arguments()).isEqualTo("size=64");
        assertThat(e.code()).isEqualTo(2);
        assertThat(e.errorName()).isEqualTo("hipErrorOutOfMemory");
        assertThat(e.errorText()).isEqualTo("out of memory");
        assertThat(e).isInstanceOf(NativeFailureException.class);
    }

    @Test
    void lifeCycleMistakesSayWhatToDo() {
        assertThat(KernelStateException.notPrepared("cpu", "forward").getMessage())
                .contains("cpu", "not prepared", "prepare(weights) before forward");
        assertThat(KernelStateException.closed("cpu", "forward").getMessage()).contains("closed", "forward");
        assertThat(KernelStateException.alreadyPrepared("cpu").getMessage()).contains("once");
    }

    @Test
    void everyKindIsAMoeKernelExceptionAndNoneIsAnIllegalArgumentException() {
        for (RuntimeException e : new RuntimeException[] {new BadInputException("x"), new KernelStateException("x"),
                new NativeFailureException("f", "", "t"), new UnsupportedSpecException("p", "w", "r", "m")}) {
            assertThat(e).isInstanceOf(MoeKernelException.class).isNotInstanceOf(IllegalArgumentException.class);
        }
    }
}
