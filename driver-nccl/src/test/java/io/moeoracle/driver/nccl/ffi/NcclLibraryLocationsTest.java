package io.moeoracle.driver.nccl.ffi;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where libnccl.so.2 is looked for: the Python package folders, newest Python first. */
class NcclLibraryLocationsTest {

    @Test
    @DisplayName("the nvidia/nccl/lib folders of pip packages are found under every python3.* of a prefix")
    void pythonPackages(@TempDir Path dir) throws Exception {
        Path usrLocal = dir.resolve("usr/local/lib");
        Path a = Files.createDirectories(usrLocal.resolve("python3.12/dist-packages/nvidia/nccl/lib"));
        Path b = Files.createDirectories(usrLocal.resolve("python3.9/site-packages/nvidia/nccl/lib"));
        Files.createDirectories(usrLocal.resolve("python3.11/site-packages/numpy")); // no NCCL there
        Path home = dir.resolve("home/u/.local/lib");
        Path c = Files.createDirectories(home.resolve("python3.10/site-packages/nvidia/nccl/lib"));
        Files.writeString(a.resolve("libnccl.so.2"), "");
        List<Path> found = NcclLibraryLocations.pythonPackageFolders(List.of(usrLocal, dir.resolve("missing"), home));
        assertThat(found).containsExactly(a, b, c);
    }

    @Test
    @DisplayName("python3.12 sorts after python3.9 (numbers, not text)")
    void versionOrder() {
        assertThat(NcclLibraryLocations.compareVersions("python3.12", "python3.9")).isPositive();
        assertThat(NcclLibraryLocations.compareVersions("python3.9", "python3.10")).isNegative();
        assertThat(NcclLibraryLocations.compareVersions("python3", "python3.8")).isNegative();
    }

    @Test
    @DisplayName("the library file pattern takes libnccl.so, .so.2 and .so.2.27.3, nothing else")
    void filePattern() {
        assertThat("libnccl.so.2").matches(NcclLibraryLocations.FILES);
        assertThat("libnccl.so").matches(NcclLibraryLocations.FILES);
        assertThat("libnccl.so.2.27.3").matches(NcclLibraryLocations.FILES);
        assertThat("libnccl-net.so").doesNotMatch(NcclLibraryLocations.FILES);
        assertThat("libnccl_static.a").doesNotMatch(NcclLibraryLocations.FILES);
    }

    @Test
    @DisplayName("the default search lists only folders that exist")
    void defaults() {
        assertThat(NcclLibraryLocations.defaultFolders()).allSatisfy(p -> assertThat(p).isDirectory());
    }
}
