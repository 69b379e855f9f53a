package io.moeoracle.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.backend.cpu.ffi.MoeCpuNative;
import io.moeoracle.nativeload.NativeLibraryException;
import io.moeoracle.nativeload.NativeSettings;
import io.moeoracle.nativeload.ffi.NativeLibraryLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where the library comes from, and what the errors say when it cannot be loaded. */
class NativeLibraryLoaderTest {
    private static final String FILE = "libmoeoracle_cpu.so";
    private static final String RESOURCE = "native/" + NativeLibraryLoader.platform() + "/" + FILE;

    @TempDir
    Path tmp;

    private NativeLibraryLoader loader(List<Path> libPath, List<Path> caches, String resource) {
        return NativeLibraryLoader.builder("libmoeoracle_cpu").bundledResource(resource, getClass().getClassLoader())
                .fileNames(FILE).systemSearch(false).libraryPath(libPath).cacheFolders(caches).build();
    }

    @Test
    void extractsFromTheJarIntoAHashedCacheFolder() {
        MoeCpuNative n = MoeCpuNative.load(loader(List.of(), List.of(tmp), RESOURCE));
        assertThat(n.origin()).isEqualTo("extracted");
        assertThat(n.path().getParent().getParent()).isEqualTo(tmp);
        assertThat(n.path().getParent().getFileName().toString()).hasSize(16);
        // a second load reuses the extracted file
        assertThat(MoeCpuNative.load(loader(List.of(), List.of(tmp), RESOURCE)).path()).isEqualTo(n.path());
    }

    @Test
    void javaLibraryPathComesFirst() throws Exception {
        Path extracted = MoeCpuNative.load(loader(List.of(), List.of(tmp.resolve("a")), RESOURCE)).path();
        Path dir = Files.createDirectories(tmp.resolve("lib"));
        Files.copy(extracted, dir.resolve(FILE));
        MoeCpuNative n = MoeCpuNative.load(loader(List.of(dir), List.of(tmp.resolve("b")), RESOURCE));
        assertThat(n.origin()).isEqualTo("java.library.path");
        assertThat(n.path()).isEqualTo(dir.resolve(FILE));
    }

    @Test
    void anUnusableCacheFolderNamesThePropertyAndKeepsEveryAttempt() throws Exception {
        // a regular file where a folder is expected: unwritable even for root
        Path blocker = Files.writeString(tmp.resolve("not-a-folder"), "x");
        Path bogusDir = Files.createDirectories(tmp.resolve("bogus"));
        Files.writeString(bogusDir.resolve(FILE), "this is not an ELF file");
        assertThatThrownBy(() -> MoeCpuNative.load(loader(List.of(bogusDir), List.of(blocker.resolve("cache")),
                RESOURCE)))
                .isInstanceOf(NativeLibraryException.class)
                .hasMessageContaining(NativeSettings.CACHE.name())
                .satisfies(e -> {
                    assertThat(e.getSuppressed()).hasSize(2);
                    assertThat(e.getSuppressed()[0].getMessage()).contains("java.library.path");
                    assertThat(e.getSuppressed()[1].getMessage()).contains("moe.native.cache");
                });
    }

    @Test
    void aMissingResourceSaysTheLibraryWasNotBuilt() {
        assertThatThrownBy(() -> MoeCpuNative.load(loader(List.of(), List.of(tmp), "native/none/" + FILE)))
                .isInstanceOf(NativeLibraryException.class).hasMessageStartingWith("native library not built");
    }

    @Test
    void aLibraryThatIsNotOursIsRejected() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("libc"));
        Path libm = Stream.of("/lib/x86_64-linux-gnu/libm.so.6", "/usr/lib/x86_64-linux-gnu/libm.so.6", "/lib64/libm.so.6")
                .map(Path::of).filter(Files::isRegularFile).findFirst().orElse(null);
        org.junit.jupiter.api.Assumptions.assumeTrue(libm != null, "no libm to stand in for a foreign library");
        Files.copy(libm, dir.resolve(FILE));
        MoeCpuNative n = MoeCpuNative.load(loader(List.of(dir), List.of(tmp.resolve("c")), RESOURCE));
        assertThat(n.origin()).isEqualTo("extracted");
    }

    private static final class Stream {
        static java.util.stream.Stream<String> of(String... s) {
            return java.util.stream.Stream.of(s);
        }
    }
}
