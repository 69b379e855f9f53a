package io.moeoracle.nativeload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.Setting;
import io.moeoracle.nativeload.ffi.NativeLibraryLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The order of the search, what an override does, and that every failed attempt survives as a
 * suppressed cause of one error naming the setting. libc stands in for a real system library;
 * files of text stand in for broken ones. (Extraction from a jar is tested with the real CPU
 * library in backend-cpu's NativeLibraryLoaderTest.)
 */
class NativeLibraryLoaderTest {
    private static final Setting OVERRIDE = Setting.property("moe.test.library", "", "a library for this test");

    @TempDir
    Path tmp;

    @Test
    void theSystemLoaderFindsALibraryByName() {
        NativeLibraryLoader.Loaded l = NativeLibraryLoader.builder("libc").fileNames("libc.so.6")
                .libraryPath(List.of()).build().load();
        assertThat(l.origin()).isEqualTo("system loader");
        assertThat(l.lookup().find("strlen")).isPresent();
    }

    @Test
    void javaLibraryPathComesBeforeTheSystemLoaderAndEveryFailureIsKept() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("lib"));
        Files.writeString(dir.resolve("libmoe-test.so.1"), "not an ELF file");
        Files.writeString(dir.resolve("libmoe-test.so"), "not an ELF file either");
        NativeLibraryLoader loader = NativeLibraryLoader.builder("libmoe-test").override(OVERRIDE, Optional.empty())
                .fileNames("libmoe-test.so.1", "libmoe-test.so").libraryPath(List.of(dir))
                .remedy("install the test package").build();
        assertThatThrownBy(loader::load).isInstanceOfSatisfying(NativeLibraryException.class, e -> {
            assertThat(e.getMessage()).contains("libmoe-test could not be loaded", "install the test package",
                    "-Dmoe.test.library=/path/to/libmoe-test.so.1");
            // two broken files on java.library.path, then both names through the system loader
            assertThat(e.getSuppressed()).hasSize(4);
            assertThat(e.getSuppressed()[0].getMessage()).contains(dir.resolve("libmoe-test.so.1").toString(),
                    "java.library.path");
            assertThat(e.getSuppressed()[2].getMessage()).contains("libmoe-test.so.1", "system loader");
            assertThat(e.nativeAccessDenied()).isFalse();
        });
    }

    @Test
    void aSetOverrideIsTheOnlyCandidate() {
        NativeLibraryLoader loader = NativeLibraryLoader.builder("libc").override(OVERRIDE,
                Optional.of(tmp.resolve("missing.so").toString())).fileNames("libc.so.6").build();
        assertThatThrownBy(loader::load).isInstanceOfSatisfying(NativeLibraryException.class, e -> {
            assertThat(e.getMessage()).contains("-Dmoe.test.library", "missing.so", "unset it");
            assertThat(e.getSuppressed()).hasSize(1);
        });
        NativeLibraryLoader.Loaded byName = NativeLibraryLoader.builder("libc")
                .override(OVERRIDE, Optional.of("libc.so.6")).fileNames("libnope-moe.so").build().load();
        assertThat(byName.origin()).isEqualTo("setting moe.test.library");
    }

    @Test
    void theVerifierRejectsAndTheSearchGoesOnToInstallFolders() throws Exception {
        Path libc = Path.of("/lib/x86_64-linux-gnu/libc.so.6");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(libc), "no libc at the Debian path");
        Path folder = Files.createDirectories(tmp.resolve("toolkit"));
        Files.writeString(folder.resolve("libfake.so.1"), "broken");
        Files.copy(libc, folder.resolve("libfake.so.2"));
        Files.writeString(folder.resolve("unrelated.txt"), "ignored");
        NativeLibraryLoader.Loaded l = NativeLibraryLoader.builder("libfake").systemSearch(false)
                .libraryPath(List.of()).folders(List.of(folder, tmp.resolve("absent")), "libfake\\.so\\.\\d+").build()
                .load((lookup, path) -> {
                    if (lookup.find("strlen").isEmpty()) {
                        throw new NativeLibraryException(path + " lacks strlen");
                    }
                });
        assertThat(l.path()).isEqualTo(folder.resolve("libfake.so.2"));
        assertThat(l.origin()).isEqualTo("folder");

        NativeLibraryLoader picky = NativeLibraryLoader.builder("libfake").systemSearch(false).libraryPath(List.of())
                .folders(List.of(folder), "libfake\\.so\\.\\d+").build();
        assertThatThrownBy(() -> picky.load((lookup, path) -> {
            throw new NativeLibraryException("wrong ABI in " + path);
        })).isInstanceOfSatisfying(NativeLibraryException.class, e -> {
            assertThat(e.getSuppressed()).hasSize(2);
            assertThat(e.getSuppressed()[1].getMessage()).contains("wrong ABI in " + folder.resolve("libfake.so.2"));
        });
    }

    @Test
    void aMissingJarResourceSaysTheLibraryWasNotBuilt() {
        NativeLibraryLoader loader = NativeLibraryLoader.builder("libmoe-none")
                .bundled("libmoe-none.so", getClass().getClassLoader()).libraryPath(List.of()).cacheFolders(List.of(tmp))
                .build();
        assertThat(loader.resource()).contains("native/" + NativeLibraryLoader.platform() + "/libmoe-none.so");
        assertThatThrownBy(loader::load).isInstanceOf(NativeLibraryException.class)
                .hasMessageStartingWith("native library not built");
    }

    @Test
    void aLoaderNeedsSomewhereToLook() {
        assertThatThrownBy(() -> NativeLibraryLoader.builder("nothing").build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("somewhere to look");
    }
}
