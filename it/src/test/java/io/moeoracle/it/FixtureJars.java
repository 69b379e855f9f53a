package io.moeoracle.it;

import io.moeoracle.api.MoeKernelProvider;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/**
 * Builds the third-party backend jars under {@code src/test/fixtures} the way an outside author
 * would: compiled against the api jar alone, packaged with a module descriptor and a services
 * file, and never on the test class path.
 */
final class FixtureJars {
    private static final Path SOURCES = Path.of("src/test/fixtures");
    private static final Path OUT = Path.of("target/fixture-jars");
    private static final Map<String, Path> BUILT = new ConcurrentHashMap<>();

    private FixtureJars() {
    }

    /** @param name folder under src/test/fixtures @return the built jar */
    static Path jar(String name) {
        return BUILT.computeIfAbsent(name, FixtureJars::build);
    }

    /** @return where the api classes (jar or folder) are */
    static Path apiLocation() {
        return locationOf(MoeKernelProvider.class);
    }

    static Path locationOf(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Path build(String name) {
        try {
            Path src = SOURCES.resolve(name);
            Path classes = OUT.resolve(name + "-classes");
            Files.createDirectories(classes);
            List<String> files = new ArrayList<>();
            try (Stream<Path> s = Files.walk(src)) {
                s.filter(p -> p.toString().endsWith(".java")).forEach(p -> files.add(p.toString()));
            }
            JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
            if (javac == null) {
                throw new IllegalStateException("the fixture jars need a JDK (javax.tools) to build; this is a JRE");
            }
            // a fixture without module-info.java is a plain jar, compiled against the api on the class path
            boolean modular = Files.exists(src.resolve("module-info.java"));
            List<String> args = new ArrayList<>(List.of("--release", "25", "-Xlint:all", "-Werror",
                    modular ? "--module-path" : "--class-path", apiLocation().toString(), "-d", classes.toString()));
            args.addAll(files);
            int rc = javac.run(null, null, null, args.toArray(String[]::new));
            if (rc != 0) {
                throw new IllegalStateException("javac failed for fixture " + name + " (exit " + rc + ")");
            }
            Path jar = OUT.resolve("moe-oracle-it-" + name + ".jar");
            try (OutputStream os = Files.newOutputStream(jar); JarOutputStream jos = new JarOutputStream(os)) {
                addTree(jos, classes);
                addTree(jos, src.resolve("META-INF").getParent(), "META-INF/");
            }
            return jar;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void addTree(JarOutputStream jos, Path root) throws IOException {
        addTree(jos, root, "");
    }

    private static void addTree(JarOutputStream jos, Path root, String prefixFilter) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted().toList()) {
                if (!Files.isRegularFile(p)) {
                    continue;
                }
                String rel = root.relativize(p).toString().replace('\\', '/');
                if (!rel.startsWith(prefixFilter) || rel.endsWith(".java")) {
                    continue;
                }
                jos.putNextEntry(new JarEntry(rel));
                jos.write(Files.readAllBytes(p));
                jos.closeEntry();
            }
        }
    }
}
