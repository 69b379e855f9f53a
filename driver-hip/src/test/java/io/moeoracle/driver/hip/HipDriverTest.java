package io.moeoracle.driver.hip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.DeviceProbe;
import io.moeoracle.driver.hip.ffi.LibHip;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/**
 * What can be checked without an AMD GPU: the probe's quiet answer when the runtime is absent,
 * error texts, architecture names and features, the property-struct reading and the argument array.
 * With a ROCm runtime and a device present the probe test checks the devices instead.
 */
class HipDriverTest {
    @Test
    void probeAnswersQuietlyWithTheReasonOrTheDevices() {
        DeviceProbe.Result r = new HipDeviceProbe().probe();
        assertThat(r.probeId()).isEqualTo("hip");
        if (!LibHip.library().isLoaded()) {
            assertThat(r.devices()).isEmpty();
            assertThat(r.reason()).hasValueSatisfying(reason -> assertThat(reason)
                    .contains("libamdhip64", "moe.hip.runtime"));
            assertThat(HipRuntime.isAvailable()).isFalse();
            assertThatThrownBy(HipRuntime::load).isInstanceOf(HipUnavailableException.class)
                    .hasMessageContaining("libamdhip64");
        } else if (HipRuntime.isAvailable()) {
            assertThat(r.devices()).isNotEmpty().allSatisfy(d -> {
                assertThat(d.arch()).startsWith("gfx");
                assertThat(d.driverVersion()).hasValueSatisfying(v -> assertThat(v).startsWith("HIP runtime "));
            });
        } else {
            assertThat(r.reason()).isPresent();
        }
    }

    @Test
    void exceptionNamesCallArgumentsAndError() {
        HipException e = HipException.of(2, "hipMalloc", "bytes=1024");
        assertThat(e.getMessage()).startsWith("hipMalloc(bytes=1024) failed: hipErrorOutOfMemory (2)")
                .contains("free device memory");
        assertThat(e.call()).isEqualTo("hipMalloc");
        assertThat(e.code()).isEqualTo(2);
        assertThat(HipException.nameOf(209)).isEqualTo("hipErrorNoBinaryForGpu");
        assertThat(HipException.of(209, "hipModuleLoadData", "image=10 bytes").getMessage())
                .contains("gfx target");
        assertThat(HipException.nameOf(12345)).isEqualTo("hipError_t 12345");
    }

    @Test
    void itIsTheApisNativeFailureWithTheRuntimesText() {
        io.moeoracle.api.error.NativeFailureException e = HipException.of(2, "hipMalloc", "bytes=8");

        assertThat(e).isInstanceOf(io.moeoracle.api.error.MoeKernelException.class);
        assertThat(e.call()).isEqualTo("hipMalloc");
        assertThat(e.arguments()).isEqualTo("bytes=8");
        assertThat(e.driverText()).startsWith("hipErrorOutOfMemory (2): ");
    }

    @Test
    void architectureNamesAndFeatures() {
        assertThat(HipArch.processor("gfx942:sramecc+:xnack-")).isEqualTo("gfx942");
        assertThat(HipArch.processor("gfx950")).isEqualTo("gfx950");
        assertThat(HipArch.processor("gfx90a:xnack+")).isEqualTo("gfx90a");
        assertThatThrownBy(() -> HipArch.processor("sm_90")).hasMessageContaining("not an AMD GPU architecture");
        assertThat(HipArch.features("gfx942")).containsExactlyInAnyOrder("bf16", "mfma", "fp8", "fp8_fnuz");
        assertThat(HipArch.features("gfx950")).containsExactlyInAnyOrder("bf16", "mfma", "fp8", "fp8_ocp", "fp4", "fp6");
        assertThat(HipArch.features("gfx90a")).containsExactlyInAnyOrder("bf16", "mfma");
        assertThat(HipArch.features("gfx1100")).doesNotContain("mfma");
        assertThat(HipArch.waveSize("gfx942")).isEqualTo(64);
        assertThat(HipArch.waveSize("gfx1201")).isEqualTo(32);
    }

    @Test
    void propertiesAreReadByContentAndCheckedLayout() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment props = arena.allocate(HipDeviceProps.BUFFER_BYTES);
            props.setString(0, "AMD Instinct MI300X", StandardCharsets.US_ASCII);
            props.set(ValueLayout.JAVA_LONG_UNALIGNED, HipDeviceProps.TOTAL_GLOBAL_MEM, 192L << 30);
            props.set(ValueLayout.JAVA_INT_UNALIGNED, HipDeviceProps.WARP_SIZE, 64);
            props.set(ValueLayout.JAVA_INT_UNALIGNED, HipDeviceProps.MULTI_PROCESSOR_COUNT, 304);
            props.setString(1160, "gfx942:sramecc+:xnack-", StandardCharsets.US_ASCII);
            assertThat(HipDeviceProps.name(props)).isEqualTo("AMD Instinct MI300X");
            assertThat(HipDeviceProps.gcnArchName(props)).hasValue("gfx942:sramecc+:xnack-");
            assertThat(HipDeviceProps.computeUnits(props, 192L << 30)).isEqualTo(OptionalInt.of(304));
            assertThat(HipDeviceProps.computeUnits(props, 64L << 30)).as("layout not confirmed").isEmpty();
            assertThat(HipDeviceProps.uuid(props, 192L << 30)).as("an all-zero UUID is none").isEmpty();
            props.set(ValueLayout.JAVA_BYTE, 256, (byte) 0xAB);
            props.set(ValueLayout.JAVA_BYTE, 271, (byte) 0x01);
            assertThat(HipDeviceProps.uuid(props, 192L << 30)).hasValue("ab000000000000000000000000000001");
            assertThat(HipDeviceProps.uuid(props, 64L << 30)).as("layout not confirmed").isEmpty();
            props.set(ValueLayout.JAVA_INT_UNALIGNED, HipDeviceProps.WARP_SIZE, 7);
            assertThat(HipDeviceProps.computeUnits(props, 192L << 30)).isEmpty();
        }
    }

    @Test
    @SuppressWarnings("restricted")
    void kernelArgumentsAreAnArrayOfPointersToSlots() {
        try (Arena arena = Arena.ofConfined()) {
            HipKernelArgs args = HipKernelArgs.builder().pointer(0xABCDEF00L).i32(-7).f32(1.5f).build(arena);
            assertThat(args.count()).isEqualTo(3);
            MemorySegment p = args.pointers().reinterpret(3 * ValueLayout.ADDRESS.byteSize());
            assertThat(p.getAtIndex(ValueLayout.ADDRESS, 0).reinterpret(8).get(ValueLayout.ADDRESS, 0).address())
                    .isEqualTo(0xABCDEF00L);
            assertThat(p.getAtIndex(ValueLayout.ADDRESS, 1).reinterpret(4).get(ValueLayout.JAVA_INT, 0)).isEqualTo(-7);
            assertThat(p.getAtIndex(ValueLayout.ADDRESS, 2).reinterpret(4).get(ValueLayout.JAVA_FLOAT, 0)).isEqualTo(1.5f);
            assertThat(args.describe()).isEqualTo("(0xabcdef00, -7, 1.5f)");
        }
    }

    @Test
    void versionsAreMajorDotMinor() {
        assertThat(HipRuntime.versionString(60_443_483)).isEqualTo("6.4");
        assertThat(HipRuntime.versionString(70_000_000)).isEqualTo("7.0");
    }
}
