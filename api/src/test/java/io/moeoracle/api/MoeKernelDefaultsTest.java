package io.moeoracle.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.SimulatedDeviceCatalogue;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.api.tensor.Tensor;
import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

/** What a kernel that implements only the standard forward answers to the rest of the SPI. */
class MoeKernelDefaultsTest {
    private static final MoeLayerSpec SPEC = MoeLayerSpec.builder().experts(4).topK(2).hiddenSize(32)
            .intermediateSize(32).build();

    /** The least a standard-format kernel implements. */
    private static final class StandardOnly implements MoeKernel {
        @Override
        public String providerId() {
            return "standard-only";
        }

        @Override
        public MoeLayerSpec spec() {
            return SPEC;
        }

        @Override
        public DeviceInfo device() {
            return SimulatedDeviceCatalogue.builtIn().devices().getLast();
        }

        @Override
        public void prepare(MoeWeights weights) {
        }

        @Override
        public boolean isPrepared() {
            return true;
        }

        @Override
        public void forward(Tensor hidden, Routing routing, Tensor out) {
        }

        @Override
        public void close() {
        }
    }

    @Test
    void theBatchedForwardOfAStandardKernelIsBadInputNamingTheRightCall() {
        try (Arena arena = Arena.ofConfined(); MoeKernel k = new StandardOnly()) {
            HostTensor t = HostTensor.allocate(arena, DType.F32, 4, 1, 32);
            assertThatThrownBy(() -> k.forwardBatched(t, HostTensor.allocate(arena, DType.I32, 4), t))
                    .isInstanceOf(BadInputException.class)
                    .hasMessageContaining("forwardBatched does not take the STANDARD activation format")
                    .hasMessageContaining("call forward(hidden [T, H], routing, out)");
            assertThat(k.captureBatched(t, t, t)).isEmpty();
            assertThat(k.capture(t, Routing.logits(t), t)).isEmpty();
        }
    }

    @Test
    void aHostKernelRefusesToAllocateAsAnOptionalOperation() {
        try (MoeKernel k = new StandardOnly()) {
            assertThatThrownBy(() -> k.allocate(DType.BF16, 2, 32)).isInstanceOf(UnsupportedOperationException.class)
                    .hasMessageContaining("standard-only runs on host memory");
        }
    }
}
