package io.moeoracle.cuda.moe.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.DeviceTensor;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.api.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The checks of where a forward's tensors live (copies need a GPU and are covered by the backends' gpu tests). */
class TensorStagingTest {
    private final Arena arena = Arena.ofConfined();
    private final DeviceInfo cuda0 = new DeviceInfo("cuda:0", Vendor.NVIDIA, "sm_90", "H100", 132, 80L << 30, Set.of(),
            false);
    private final TensorStaging staging = new TensorStaging(cuda0, "triton");

    /** A device tensor of another backend's kind (an OpenCL buffer, say). */
    private record ForeignTensor(String deviceId) implements DeviceTensor {
        @Override
        public DType dtype() {
            return DType.F32;
        }

        @Override
        public long[] shape() {
            return new long[] {2, 64};
        }

        @Override
        public void copyFrom(HostTensor src) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void copyTo(HostTensor dst) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void close() {
        }
    }

    @AfterEach
    void close() {
        arena.close();
    }

    private HostTensor host(DType dtype, long... shape) {
        return HostTensor.allocate(arena, dtype, shape);
    }

    @Test
    @DisplayName("host tensors pass; another backend's device tensor is refused, naming it, its device and the provider")
    void residence() {
        HostTensor hidden = host(DType.F32, 2, 64);
        staging.checkResidence("hidden", hidden);
        staging.checkResidence(hidden, new Routing.Logits(host(DType.F32, 2, 8)), host(DType.F32, 2, 64));
        assertThatThrownBy(() -> staging.checkResidence("out", new ForeignTensor("opencl:0:0")))
                .isInstanceOf(BadInputException.class)
                .hasMessageStartingWith("out is a ")
                .hasMessageContaining("of device opencl:0:0; triton takes HostTensors or tensors from its allocate()");
        assertThatThrownBy(() -> staging.checkResidence(hidden, new Routing.TopK(host(DType.I32, 2, 4),
                new ForeignTensor("opencl:0:0")), hidden)).isInstanceOf(BadInputException.class)
                .hasMessageStartingWith("top-k weights is a ");
    }

    @Test
    @DisplayName("a capture refuses host tensors, naming the argument")
    void captureNeedsDeviceTensors() {
        assertThatThrownBy(() -> staging.requireDevice("hidden", host(DType.BF16, 2, 64)))
                .isInstanceOf(BadInputException.class)
                .hasMessage("capture needs device tensors; hidden is a host tensor (use allocate())");
        assertThatThrownBy(() -> staging.requireDevice(new Routing.Logits(host(DType.F32, 2, 8))))
                .isInstanceOf(BadInputException.class).hasMessageContaining("router logits is a host tensor");
        assertThatThrownBy(() -> staging.requireDevice(new Routing.TopK(host(DType.I32, 2, 4), host(DType.F32, 2, 4))))
                .isInstanceOf(BadInputException.class).hasMessageContaining("top-k ids is a host tensor");
    }

    @Test
    @DisplayName("staging is needed exactly when some argument is on the host; routing tensors are listed in order")
    void hostArguments() {
        HostTensor logits = host(DType.F32, 2, 8);
        assertThat(TensorStaging.anyOnHost()).isFalse();
        assertThat(TensorStaging.anyOnHost(new ForeignTensor("cuda:0"))).isFalse();
        assertThat(TensorStaging.anyOnHost(new ForeignTensor("cuda:0"), logits)).isTrue();
        assertThat(TensorStaging.routingTensors(new Routing.Logits(logits))).containsExactly(logits);
        HostTensor ids = host(DType.I32, 2, 4);
        HostTensor weights = host(DType.F32, 2, 4);
        assertThat(TensorStaging.routingTensors(new Routing.TopK(ids, weights))).containsExactly(ids, weights);
    }

    @Test
    @DisplayName("activations of another backend's kind are refused before anything is copied or launched")
    void bf16HiddenRefusesForeignTensors() {
        Tensor foreign = new ForeignTensor("opencl:0:0");
        assertThatThrownBy(() -> TensorStaging.bf16Hidden(foreign, null, null, (src, dst) -> {
            throw new AssertionError("nothing may be launched");
        })).isInstanceOf(BadInputException.class).hasMessageContaining("pass a HostTensor or a tensor from allocate()");
    }

    @Test
    @DisplayName("device routing carries the logits' type as the kernels' integer flag")
    void deviceRouting() {
        assertThat(new TensorStaging.DeviceRouting(0x1000, true, 0, 0).logitsBf16Flag()).isEqualTo(1);
        assertThat(new TensorStaging.DeviceRouting(0, false, 0x2000, 0x3000).logitsBf16Flag()).isZero();
    }
}
