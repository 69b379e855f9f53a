package io.moeoracle.nativeload.ffi;

import io.moeoracle.api.Setting;
import io.moeoracle.nativeload.NativeLibraryException;
import io.moeoracle.nativeload.NativeSettings;
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
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one way moe-oracle opens a native library. In order, stopping at the first library that
 * opens and passes the {@link Verifier}:
 * <ol>
 *   <li>the override setting (e.g. {@code moe.cuda.driver}) when set: a path or a name, and then
 *       nothing else is tried, so a wrong value is an error rather than a silent fallback;</li>
 *   <li>each file name in each folder of {@code java.library.path};</li>
 *   <li>the library shipped in the jar ({@code native/<os>-<arch>/<file>}), extracted under a
 *       content hash (atomic move) into the first usable folder of {@link NativeSettings#CACHE};</li>
 *   <li>each file name through the system's dynamic loader ({@code LD_LIBRARY_PATH}, ld.so.cache);</li>
 *   <li>files matching a pattern in known install folders (e.g. the CUDA toolkit's).</li>
 * </ol>
 * Every failed attempt is kept as a suppressed exception of the one final error, whose message
 * names the setting that fixes it; a {@code noexec} cache folder is named as such.
 */
@SuppressWarnings("restricted") // opening libraries is restricted by design; hosts enable native access
public final class NativeLibraryLoader {
    private static final Logger LOG = LoggerFactory.getLogger(NativeLibraryLoader.class);

    private final Builder b;

    private NativeLibraryLoader(Builder builder) {
        this.b = builder;
    }

    /**
     * @param what the library's name for messages, e.g. {@code libcuda}
     * @return a builder (used once); it needs somewhere to look
     */
    public static Builder builder(String what) {
        return new Builder(what);
    }

    /** @return {@code <os>-<arch>} as used in jars, e.g. {@code linux-x86_64} */
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

    /** @return the folders of {@code java.library.path}, in order */
    public static List<Path> javaLibraryPath() {
        List<Path> out = new ArrayList<>();
        for (String dir : System.getProperty("java.library.path", "").split(java.io.File.pathSeparator)) {
            if (!dir.isBlank()) {
                out.add(Path.of(dir));
            }
        }
        return out;
    }

    /**
     * A library that was opened, with where it came from.
     *
     * @param lookup its symbols (the library stays loaded for the life of the JVM)
     * @param path the file opened, or the bare name handed to the system loader
     * @param origin how it was found: {@code setting moe.x}, {@code java.library.path}, {@code extracted},
     *     {@code system loader} or {@code folder}
     */
    public record Loaded(SymbolLookup lookup, Path path, String origin) {
    }

    /** Checks an opened library (e.g. its ABI version) before it is accepted. */
    @FunctionalInterface
    public interface Verifier {
        /**
         * @param lookup the opened library
         * @param path its file (or name)
         * @throws RuntimeException (best a {@link NativeLibraryException}) when it must not be used
         */
        void verify(SymbolLookup lookup, Path path);
    }

    /** Accepts every library. */
    private static final Verifier ANY = new Verifier() {
        @Override
        public void verify(SymbolLookup lookup, Path path) {
            // nothing to check
        }
    };

    /** @return the first library that opens, accepting any */
    public Loaded load() {
        return load(ANY);
    }

    /**
     * @param verifier checks each candidate
     * @return the first library that opens and passes the verifier
     * @throws NativeLibraryException naming what to set, with every failed attempt suppressed
     */
    public Loaded load(Verifier verifier) {
        List<Throwable> failures = new ArrayList<>();
        if (b.overrideValue.isPresent()) {
            String v = b.overrideValue.get();
            String origin = "setting " + (b.override.isPresent() ? b.override.get().name() : "override");
            Optional<Loaded> l = attempt(v, origin, verifier, failures);
            if (l.isPresent()) {
                return l.get();
            }
            throw fail(b.what + " could not be loaded from " + (b.override.isPresent() ? b.override.get().describe()
                    : "the override") + " = " + v + ": " + failures.getFirst().getMessage()
                    + "; fix the value or unset it to search the usual places"
                    + (b.remedy.isPresent() ? " (or " + b.remedy.get() + ")" : ""), failures);
        }
        for (Path dir : b.libraryPath) {
            for (String name : b.fileNames) {
                Path candidate = dir.resolve(name);
                if (candidate.toFile().isFile()) { // java.io: cheaper than NIO's Files in a fresh JVM
                    Optional<Loaded> l = attempt(candidate.toString(), "java.library.path", verifier, failures);
                    if (l.isPresent()) {
                        return l.get();
                    }
                }
            }
        }
        boolean notBuilt = false;
        if (b.resource.isPresent()) {
            byte[] bytes = resourceBytes(failures);
            notBuilt = bytes == null && failures.isEmpty();
            if (bytes != null) {
                Optional<Loaded> l = extracted(bytes, verifier, failures);
                if (l.isPresent()) {
                    return l.get();
                }
            }
        }
        if (b.systemSearch) {
            for (String name : b.fileNames) {
                Optional<Loaded> l = attempt(name, "system loader", verifier, failures);
                if (l.isPresent()) {
                    return l.get();
                }
            }
        }
        for (Path dir : b.folders) {
            for (Path file : matching(dir)) {
                Optional<Loaded> l = attempt(file.toString(), "folder", verifier, failures);
                if (l.isPresent()) {
                    return l.get();
                }
            }
        }
        throw fail(finalMessage(notBuilt, failures), failures);
    }

    private String finalMessage(boolean notBuilt, List<Throwable> failures) {
        String names = String.join(", ", b.fileNames);
        if (notBuilt && failures.isEmpty()) {
            return "native library not built: the jar has no " + b.resource.get() + " (the build found no C compiler,"
                    + " or this platform, " + platform() + ", is not built) and java.library.path " + b.libraryPath
                    + " has no " + names;
        }
        if (NativeLibraryException.nativeAccessDenied(failures)) {
            String module = NativeLibraryLoader.class.getModule().isNamed()
                    ? NativeLibraryLoader.class.getModule().getName() : "ALL-UNNAMED";
            return "native access is not enabled, so " + b.what + " cannot be opened: start the JVM with"
                    + " --enable-native-access=" + module + " (ALL-UNNAMED on the class path)";
        }
        StringBuilder m = new StringBuilder(b.what).append(" could not be loaded; looked for ").append(names)
                .append(" in java.library.path ").append(b.libraryPath);
        if (b.resource.isPresent()) {
            m.append(", extracted from the jar into ").append(b.cacheFolders);
        }
        if (b.systemSearch) {
            m.append(", through the system loader");
        }
        if (!b.folders.isEmpty()) {
            m.append(", in ").append(b.folders);
        }
        m.append(failures.isEmpty() ? " and found none" : "; " + failures.size() + " failed");
        if (b.remedy.isPresent()) {
            m.append("; ").append(b.remedy.get());
        }
        if (b.override.isPresent()) {
            m.append("; or name the file with -D").append(b.override.get().name()).append("=/path/to/")
                    .append(b.fileNames.isEmpty() ? "library" : b.fileNames.getFirst());
        }
        if (b.resource.isPresent()) {
            m.append("; set -D").append(NativeSettings.CACHE.name())
                    .append("=<folder> to a writable folder that allows executable files");
        }
        if (!failures.isEmpty()) {
            m.append("; first failure: ").append(failures.getFirst().getMessage());
        }
        return m.toString();
    }

    private static NativeLibraryException fail(String message, List<Throwable> failures) {
        NativeLibraryException e = new NativeLibraryException(message);
        for (Throwable f : failures) {
            e.addSuppressed(f);
        }
        return e;
    }

    private Optional<Loaded> attempt(String target, String origin, Verifier verifier, List<Throwable> failures) {
        boolean isPath = target.contains("/");
        Path path = Path.of(target);
        try {
            SymbolLookup lookup = isPath ? SymbolLookup.libraryLookup(path, Arena.global())
                    : SymbolLookup.libraryLookup(target, Arena.global());
            verifier.verify(lookup, path);
            LOG.debug("loaded {} from {} ({})", b.what, target, origin);
            return Optional.of(new Loaded(lookup, path, origin));
        } catch (RuntimeException | LinkageError e) {
            failures.add(new NativeLibraryException("could not use " + target + " (" + origin + "): "
                    + e.getMessage() + ("extracted".equals(origin) ? "; if " + path.getParent() + " is on a file"
                    + " system mounted noexec, set -D" + NativeSettings.CACHE.name() + "=<folder> to a folder that can"
                    + " hold executable files" : ""), e));
            return Optional.empty();
        }
    }

    private byte[] resourceBytes(List<Throwable> failures) {
        try (InputStream in = b.resources.getResourceAsStream(b.resource.get())) {
            return in == null ? null : in.readAllBytes();
        } catch (IOException e) {
            failures.add(new NativeLibraryException("could not read resource " + b.resource.get() + ": "
                    + e.getMessage(), e));
            return null;
        }
    }

    private Optional<Loaded> extracted(byte[] bytes, Verifier verifier, List<Throwable> failures) {
        String hash = sha256(bytes).substring(0, 16);
        String file = Path.of(b.resource.get()).getFileName().toString();
        for (Path base : b.cacheFolders) {
            Path dir = base.resolve(hash);
            Path target = dir.resolve(file);
            try {
                extract(bytes, dir, target);
            } catch (IOException | RuntimeException e) {
                failures.add(new NativeLibraryException("could not extract " + b.resource.get() + " to " + target
                        + " (" + e + "); set -D" + NativeSettings.CACHE.name() + "=<folder> to a writable folder", e));
                continue;
            }
            Optional<Loaded> l = attempt(target.toString(), "extracted", verifier, failures);
            if (l.isPresent()) {
                return l;
            }
        }
        return Optional.empty();
    }

    private List<Path> matching(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> b.folderFiles.matcher(p.getFileName().toString()).matches()).sorted().toList();
        } catch (IOException e) {
            return List.of(); // an unreadable folder is a few candidates fewer
        }
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

    /** @return the jar resource extracted, if the library ships in a jar */
    public Optional<String> resource() {
        return b.resource;
    }

    /** @return the folders extraction is tried in, in order */
    public List<Path> cacheFolders() {
        return b.cacheFolders;
    }

    /** Where to look; {@link #build()} makes the loader. */
    public static final class Builder {
        private final String what;
        private List<String> fileNames = List.of();
        private Optional<Setting> override = Optional.empty();
        private Optional<String> overrideValue = Optional.empty();
        private List<Path> libraryPath = javaLibraryPath();
        private Optional<String> resource = Optional.empty();
        private ClassLoader resources = NativeLibraryLoader.class.getClassLoader();
        private List<Path> cacheFolders = NativeSettings.cacheFolders();
        private boolean systemSearch = true;
        private List<Path> folders = List.of();
        private Pattern folderFiles; // set with folders; null while there are none
        private Optional<String> remedy = Optional.empty();

        private Builder(String what) {
            this.what = Objects.requireNonNull(what, "what");
        }

        /**
         * @param names file names (e.g. {@code libcuda.so.1}, {@code libcuda.so}), looked for in
         *     {@code java.library.path} and then through the system loader
         * @return this
         */
        public Builder fileNames(String... names) {
            this.fileNames = List.of(names);
            return this;
        }

        /**
         * @param setting the setting whose value (a path or a name), when set, is the only library tried
         * @return this
         */
        public Builder override(Setting setting) {
            return override(setting, setting.value());
        }

        /**
         * @param setting the setting named in messages
         * @param value its value from elsewhere (e.g. a provider's options), when set the only library tried
         * @return this
         */
        public Builder override(Setting setting, Optional<String> value) {
            this.override = Optional.of(setting);
            String v = value.isPresent() ? value.get().trim() : "";
            this.overrideValue = v.isEmpty() ? Optional.empty() : Optional.of(v);
            return this;
        }

        /**
         * @param file the library's file name, e.g. {@code libmoeoracle_cpu.so}, shipped in the jar as
         *     {@code native/<platform>/<file>} and extracted; the system loader is then not asked
         * @param loader the class loader that sees the jar's resources
         * @return this
         */
        public Builder bundled(String file, ClassLoader loader) {
            return bundledResource("native/" + platform() + "/" + file, loader).fileNames(file).systemSearch(false);
        }

        /**
         * @param path the jar resource holding the library
         * @param loader the class loader that sees it
         * @return this
         */
        public Builder bundledResource(String path, ClassLoader loader) {
            this.resource = Optional.of(path);
            this.resources = Objects.requireNonNull(loader, "loader");
            return this;
        }

        /**
         * @param on whether bare file names go to the system's dynamic loader (default on; off for bundled)
         * @return this
         */
        public Builder systemSearch(boolean on) {
            this.systemSearch = on;
            return this;
        }

        /**
         * @param dirs folders searched first (default: those of {@code java.library.path})
         * @return this
         */
        public Builder libraryPath(List<Path> dirs) {
            this.libraryPath = List.copyOf(dirs);
            return this;
        }

        /**
         * @param dirs folders to extract into, in order (default: {@link NativeSettings#cacheFolders()})
         * @return this
         */
        public Builder cacheFolders(List<Path> dirs) {
            this.cacheFolders = List.copyOf(dirs);
            return this;
        }

        /**
         * @param dirs install folders searched last
         * @param fileRegex the file names there that qualify, e.g. {@code libcublas\.so\.\d+}
         * @return this
         */
        public Builder folders(List<Path> dirs, String fileRegex) {
            this.folders = List.copyOf(dirs);
            this.folderFiles = Pattern.compile(fileRegex);
            return this;
        }

        /**
         * @param text what to do when nothing loads, e.g. {@code install the NVIDIA driver}
         * @return this
         */
        public Builder remedy(String text) {
            this.remedy = Optional.of(text);
            return this;
        }

        /** @return the loader */
        public NativeLibraryLoader build() {
            if (fileNames.isEmpty() && overrideValue.isEmpty() && folders.isEmpty() && resource.isEmpty()) {
                throw new IllegalStateException("a loader for " + what + " needs somewhere to look: a file name,"
                        + " an override, a jar resource or install folders");
            }
            return new NativeLibraryLoader(this);
        }
    }
}
