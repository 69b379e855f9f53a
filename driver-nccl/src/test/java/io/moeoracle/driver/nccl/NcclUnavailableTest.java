package io.moeoracle.driver.nccl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.driver.nccl.ffi.LibNccl;
import io.moeoracle.nativeload.ffi.NativeLibrary;
import io.moeoracle.nativeload.ffi.NativeUnavailableError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a host sees when NCCL is missing or is not NCCL: a verdict naming the setting, never a crash. */
class NcclUnavailableTest {

    @Test
    @DisplayName("a moe.nccl.library naming a missing file gives a verdict that names the setting and the file")
    void missingOverride() {
        NativeLibrary lib = LibNccl.open(Optional.of("/nonexistent/folder/libnccl.so.2"), List.of());
        assertThat(lib.isLoaded()).isFalse();
        assertThatThrownBy(() -> Nccl.probe(lib)).isInstanceOf(NcclUnavailableException.class)
                .hasMessageContaining("libnccl.so.2 (NCCL) was not found")
                .hasMessageContaining("-Dmoe.nccl.library=")
                .hasMessageContaining("/nonexistent/folder/libnccl.so.2")
                .hasMessageContaining("nvidia-nccl-cu13");
    }

    @Test
    @DisplayName("a file that is not a shared library is refused with the path, not loaded")
    void notALibrary(@TempDir Path dir) throws Exception {
        Path fake = Files.writeString(dir.resolve("libnccl.so.2"), "not an ELF file");
        NativeLibrary lib = LibNccl.open(Optional.of(fake.toString()), List.of());
        assertThat(lib.isLoaded()).isFalse();
        assertThat(lib.failure().orElseThrow().getMessage()).contains(fake.toString());
        assertThatThrownBy(() -> Nccl.probe(lib)).isInstanceOf(NcclUnavailableException.class)
                .hasMessageContaining("moe.nccl.library");
    }

    @Test
    @DisplayName("a shared library without ncclGetVersion is not taken for NCCL")
    void libraryWithoutNccl() {
        // libc is on every Linux machine and has no NCCL symbol
        NativeLibrary lib = LibNccl.open(Optional.of("libc.so.6"), List.of());
        assertThat(lib.isLoaded()).isTrue();
        assertThatThrownBy(() -> Nccl.probe(lib)).isInstanceOf(NcclUnavailableException.class)
                .hasMessageContaining("no ncclGetVersion").hasRootCauseInstanceOf(NativeUnavailableError.class);
    }

    @Test
    @DisplayName("without NCCL on this machine, the facade reports why instead of failing to initialize")
    void probeOfThisMachine() {
        if (Nccl.isAvailable()) {
            assertThat(Nccl.load().version()).isGreaterThanOrEqualTo(21000);
            assertThat(Nccl.unavailabilityCause()).isEmpty();
        } else {
            assertThat(Nccl.unavailabilityCause()).hasValueSatisfying(e -> assertThat(e.getMessage())
                    .contains("moe.nccl.library"));
            assertThatThrownBy(Nccl::load).isInstanceOf(NcclUnavailableException.class);
        }
    }

    @Test
    @DisplayName("version codes print as major.minor.patch, old and new style")
    void versions() {
        assertThat(Nccl.versionString(22703)).isEqualTo("2.27.3");
        assertThat(Nccl.versionString(21903)).isEqualTo("2.19.3");
        assertThat(Nccl.versionString(2804)).isEqualTo("2.8.4");
    }
}
