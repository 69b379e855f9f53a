package io.moeoracle.backend.cpu.ffi;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds and opens a native library: first in the folders of {@code java.library.path}, then
 * extracted from the jar (resource {@code native/<os>-<arch>/lib<name>.so}) into a cache folder.
 * Every failed attempt is kept as a suppressed exception of the final error; when the cache folder
 * cannot hold executable files (a {@code noexec} mount) or cannot be written, the message names
 * the {@value #CACHE_PROPERTY} property that moves it.
 */
@SuppressWarnings("restricted")
public final class NativeLibraryLoader {
    /** System property naming the folder the library is extracted to. */
    public static final String CACHE_PROPERTY = "moe.native.cache";

    private static final Logger LOG = LoggerFactory.getLogger(NativeLibraryLoader.class);

    private final String fileName;
    private final String resource;
    private final List<Path> libraryPath;
    private final List<Path> cacheFolders;
    private final ClassLoader resources;

    /**
     * @param fileName the library's file name, e.g. {@code libmoeoracle_cpu.so}
     * @param resource the jar resource holding it, e.g. {@code native/linux-x86_64/libmoeoracle_cpu.so}
     * @param libraryPath folders searched first (normally those of {@code java.library.path})
     * @param cacheFolders folders to extract into, in order; the resource's hash is appended to each
     * @param resources the class loader that sees the resource
     */
    public NativeLibraryLoader(String fileName, String resource, List<Path> libraryPath, List<Path> cacheFolders,
                               ClassLoader resources) {
        this.fileName = fileName;
        this.resource = resource;
        this.libraryPath = List.copyOf(libraryPath);
        this.cacheFolders = List.copyOf(cacheFolders);
        this.resources = resources;
    }

    /**
     * The default search for this platform: {@code java.library.path}, then {@code moe.native.cache}
     * when set, otherwise {@code ~/.cache/moe-oracle/native} and then {@code java.io.tmpdir}.
     *
     * @param libName the name without {@code lib} and {@code .so}
     * @param resources the class loader that sees the jar's resources
     * @return the loader
     */
    public static NativeLibraryLoader forCurrentPlatform(String libName, ClassLoader resources) {
        String file = "lib" + libName + ".so";
        List<Path> libPath = new ArrayList<>();
        String jlp = System.getProperty("java.library.path", "");
        for (String dir : jlp.split(java.io.File.pathSeparator)) {
            if (!dir.isBlank()) {
                libPath.add(Path.of(dir));
            }
        }
        List<Path> caches = new ArrayList<>();
        String configured = System.getProperty(CACHE_PROPERTY);
        if (configured != null && !configured.isBlank()) {
            caches.add(Path.of(configured));
        } else {
            caches.add(Path.of(System.getProperty("user.home"), ".cache", "moe-oracle", "native"));
            caches.add(Path.of(System.getProperty("java.io.tmpdir"),
                    "moe-oracle-native-" + System.getProperty("user.name", "user")));
        }
        return new NativeLibraryLoader(file, "native/" + platform() + "/" + file, libPath, caches, resources);
    }

    /** @return {@code <os>-<arch>} as used in the jar, e.g. {@code linux-x86_64} */
    public static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String o = os.contains("linux") ? "linux" : os.contains("mac") ? "macos" : os.contains("win") ? "windows" : os;
        String a = switch (arch) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> arch;
        };
        return o + "-" + a;
    }

    /**
     * A library that was opened, with where it came from.
     *
     * @param lookup its symbols (the library stays loaded for the life of the JVM)
     * @param path the file opened
     * @param origin how it was found: {@code java.library.path} or {@code extracted}
     */
    public record Loaded(SymbolLookup lookup, Path path, String origin) {
    }

    /** Checks an opened library (e.g. its ABI version) before it is accepted. */
    @FunctionalInterface
    public interface Verifier {
        /**
         * @param lookup the opened library
         * @param path its file
         * @throws NativeLibraryException when the library must not be used
         */
        void verify(SymbolLookup lookup, Path path);
    }

    /**
     * Opens the first library that loads and passes the verifier.
     *
     * @param verifier checks each candidate
     * @return the library
     * @throws NativeLibraryException with every failed attempt suppressed
     */
    public Loaded load(Verifier verifier) {
        List<Throwable> failures = new ArrayList<>();
        for (Path dir : libraryPath) {
            Path candidate = dir.resolve(fileName);
            if (!Files.isRegularFile(candidate)) {
                continue;
            }
            try {
                SymbolLookup lookup = SymbolLookup.libraryLookup(candidate, Arena.global());
                verifier.verify(lookup, candidate);
                LOG.debug("loaded {} from java.library.path", candidate);
                return new Loaded(lookup, candidate, "java.library.path");
            } catch (RuntimeException e) {
                failures.add(new NativeLibraryException("could not use " + candidate + " found on java.library.path: "
                        + e.getMessage(), e));
            }
        }
        byte[] bytes;
        try (InputStream in = resources.getResourceAsStream(resource)) {
            if (in == null) {
                NativeLibraryException e = new NativeLibraryException("native library not built: the jar has no "
                        + resource + " (the build found no C compiler, or this platform, " + platform()
                        + ", is not built) and java.library.path " + libraryPath + " has no " + fileName);
                failures.forEach(e::addSuppressed);
                throw e;
            }
            bytes = in.readAllBytes();
        } catch (IOException e) {
            NativeLibraryException ex = new NativeLibraryException("could not read resource " + resource + ": "
                    + e.getMessage(), e);
            failures.forEach(ex::addSuppressed);
            throw ex;
        }
        String hash = sha256(bytes).substring(0, 16);
        for (Path base : cacheFolders) {
            Path dir = base.resolve(hash);
            Path target = dir.resolve(fileName);
            try {
                extract(bytes, dir, target);
            } catch (IOException | RuntimeException e) {
                failures.add(new NativeLibraryException("could not extract " + resource + " to " + target + " ("
                        + e + "); set -D" + CACHE_PROPERTY + "=<folder> to a writable folder", e));
                continue;
            }
            try {
                SymbolLookup lookup = SymbolLookup.libraryLookup(target, Arena.global());
                verifier.verify(lookup, target);
                LOG.debug("loaded {} extracted from the jar", target);
                return new Loaded(lookup, target, "extracted");
            } catch (RuntimeException e) {
                failures.add(new NativeLibraryException("could not open " + target + " (" + e.getMessage()
                        + "); if " + dir + " is on a file system mounted noexec, set -D" + CACHE_PROPERTY
                        + "=<folder> to a folder that can hold executable files", e));
            }
        }
        NativeLibraryException e = new NativeLibraryException("could not load " + fileName + " from java.library.path "
                + libraryPath + " or from the cache folders " + cacheFolders + " (set -D" + CACHE_PROPERTY
                + "=<folder> to a writable folder that allows executable files)"
                + failures.stream().findFirst().map(f -> "; first failure: " + f.getMessage()).orElse(""));
        failures.forEach(e::addSuppressed);
        throw e;
    }

    private static void extract(byte[] bytes, Path dir, Path target) throws IOException {
        if (Files.isRegularFile(target) && Files.size(target) == bytes.length
                && sha256(Files.readAllBytes(target)).equals(sha256(bytes))) {
            return;
        }
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp");
        try {
            Files.write(tmp, bytes);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    /** @return the resource path inside the jar */
    public String resource() {
        return resource;
    }

    /** @return the cache folders tried, in order */
    public List<Path> cacheFolders() {
        return cacheFolders;
    }
}
