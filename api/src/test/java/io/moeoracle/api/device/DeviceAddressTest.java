package io.moeoracle.api.device;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DeviceAddressTest {

    @Test
    void everyDisplayIdParsesToItsTypedAddressAndBack() {
        assertThat(DeviceAddress.parse("cpu")).isEqualTo(new DeviceAddress.Host());
        assertThat(DeviceAddress.parse("cuda:3")).isEqualTo(new DeviceAddress.Cuda(3, Optional.empty()));
        assertThat(DeviceAddress.parse("hip:1")).isEqualTo(new DeviceAddress.Hip(1, Optional.empty()));
        assertThat(DeviceAddress.parse("opencl:1:0")).isEqualTo(new DeviceAddress.OpenCl(1, 0, Optional.empty()));
        assertThat(DeviceAddress.parse("sim:sm_90")).isEqualTo(new DeviceAddress.Simulated("sm_90"));
        for (String id : List.of("cpu", "cuda:3", "hip:1", "opencl:1:0", "sim:sm_90", "vulkan:0", "cuda:x")) {
            assertThat(DeviceAddress.parse(id).id()).isEqualTo(id);
        }
        assertThat(DeviceAddress.parse("cuda:x")).isInstanceOf(DeviceAddress.Other.class);
        assertThat(DeviceAddress.parse("cuda:-1")).isInstanceOf(DeviceAddress.Other.class);
    }

    @Test
    void uuidsAreComparedWithoutDashesCaseOrTheGpuPrefix() {
        var cuda = new DeviceAddress.Cuda(0, Optional.of("GPU-0A1B-2c3d"));
        var cl = new DeviceAddress.OpenCl(1, 0, Optional.of("0a1b2c3d"));
        assertThat(cuda.uuid()).isEqualTo(cl.uuid()).contains("0a1b2c3d");
    }

    @Test
    void aDeviceSeenThroughOpenClReachesCudaThroughItsAlias() {
        DeviceInfo viaOpenCl = new DeviceInfo("opencl:1:0", Vendor.NVIDIA, "sm_90", "NVIDIA H100", 132, 80L << 30,
                Set.of(), false);
        assertThat(viaOpenCl.address()).isEqualTo(new DeviceAddress.OpenCl(1, 0, Optional.empty()));
        assertThat(viaOpenCl.address(DeviceAddress.Cuda.class)).isEmpty();

        DeviceInfo merged = viaOpenCl.withAliases(List.of(new DeviceAddress.Cuda(2, Optional.of("abcd"))));
        assertThat(merged.address(DeviceAddress.Cuda.class)).map(DeviceAddress.Cuda::ordinal).contains(2);
        assertThat(merged.address(DeviceAddress.OpenCl.class)).contains(new DeviceAddress.OpenCl(1, 0, Optional.empty()));
        assertThat(merged.uuid()).contains("abcd");
    }

    @Test
    void anAddressThatDisagreesWithTheIdIsRejected() {
        assertThatThrownBy(() -> new DeviceInfo("cuda:0", Vendor.NVIDIA, "sm_90", "x", 1, 1, Set.of(), false,
                new DeviceAddress.Cuda(1, Optional.empty()), List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cuda:0").hasMessageContaining("cuda:1");
        assertThatThrownBy(() -> new DeviceInfo("cuda:0", Vendor.NVIDIA, "sm_90", "x", 1, 1, Set.of(), false,
                new DeviceAddress.Cuda(0, Optional.empty()), List.of(new DeviceAddress.Cuda(0, Optional.empty()))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("its own address");
    }
}
