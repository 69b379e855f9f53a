package io.moeoracle.cli;

import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.core.discovery.ProviderRegistry;
import java.io.File;
import java.io.IOException;
import java.lang.module.Configuration;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.jar.JarFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The jars dropped into plugin folders: {@code plugins/} beside the launcher (passed as the system
 * property {@code moe.plugins.dir}) and each folder of {@code MOE_PLUGINS} (a path list). Plain jars go on
 * a class loader (the class path); modular jars, when the CLI itself runs on the module path, go
 * in a module layer above the boot layer. A jar that cannot be opened, or a module that does not
 * resolve, is kept as a failure for the explanation instead of stopping the others.
 *
 * @param folders the folders searched, in order
 * @param jars every jar found
 * @param loader the loader that sees every loaded plugin (layer loader over the class-path loader)
 * @param layer the module layer of the modular jars, if any
 * @param failures the jars that could not be used
 */
record Plugins(List<Path> folders, List<Path> jars, ClassLoader loader, Optional<ModuleLayer> layer,
               List<Failure> failures) {
    /** The launcher's plugins folder ({@link CliSettings#PLUGINS_DIR}). */
    static final String DIR_PROPERTY = CliSettings.PLUGINS_DIR.name();
    /** More plugin folders (or jars), separated like a class path ({@link CliSettings#PLUGINS}). */
    static final String ENV = CliSettings.PLUGINS.env().orElseThrow();
    private static final Logger LOG = LoggerFactory.getLogger(Plugins.class);

    /**
     * A jar (or folder) that could not be used.
     *
     * @param jar the jar, or the folder that could not be listed
     * @param cause why
     */
    record Failure(Path jar, Throwable cause) {
    }

    /** @return the folders named by {@code moe.plugins.dir} and {@code MOE_PLUGINS}, those that exist */
    static List<Path> configuredFolders() {
        List<Path> out = new ArrayList<>();
        CliSettings.PLUGINS_DIR.value().ifPresent(dir -> out.add(Path.of(dir)));
        Optional<String> more = CliSettings.PLUGINS.value();
        if (more.isPresent()) {
            for (String s : more.get().split(File.pathSeparator)) {
                if (!s.isBlank()) {
                    out.add(Path.of(s.strip()));
                }
            }
        }
        return out;
    }

    /**
     * Loads the jars of the folders (a path that names a jar is taken as that jar).
     *
     * @param folders the folders
     * @param parent the loader the plugins' loaders delegate to
     * @return the plugins
     */
    static Plugins load(List<Path> folders, ClassLoader parent) {
        List<Path> jars = new ArrayList<>();
        List<Failure> failures = new ArrayList<>();
        for (Path f : folders) {
            jars.addAll(jarsIn(f, failures));
        }
        List<Path> plain = new ArrayList<>();
        List<Path> modular = new ArrayList<>();
        // modular jars need the api as a named module to resolve against: only when the CLI runs on the module path
        boolean layered = MoeKernelProvider.class.getModule().isNamed();
        for (Path jar : jars) {
            try (JarFile jf = new JarFile(jar.toFile())) {
                boolean isModular = jf.getEntry("module-info.class") != null;
                (isModular && layered ? modular : plain).add(jar);
            } catch (IOException | RuntimeException e) {
                failures.add(new Failure(jar, new IOException("cannot open " + jar + " as a jar: " + e, e)));
            }
        }
        ClassLoader cp = plain.isEmpty() ? parent : new URLClassLoader("moe-oracle-plugins", urls(plain), parent);
        Optional<ModuleLayer> layer = modular.isEmpty() ? Optional.empty() : layer(modular, cp, failures);
        ClassLoader loader = layer.map(l -> l.modules().stream().findFirst().map(Module::getClassLoader).orElse(cp))
                .orElse(cp);
        return new Plugins(List.copyOf(folders), List.copyOf(jars), loader, layer, List.copyOf(failures));
    }

    private static List<Path> jarsIn(Path folder, List<Failure> failures) {
        if (Files.isRegularFile(folder) && folder.getFileName().toString().endsWith(".jar")) {
            return List.of(folder.toAbsolutePath().normalize());
        }
        if (!Files.isDirectory(folder)) {
            if (Files.exists(folder) || !folder.equals(launcherFolder())) {
                LOG.warn("plugin folder {} does not exist or is not a folder; no plugins loaded from it (check {} / -D{})",
                        folder, ENV, DIR_PROPERTY);
            }
            return List.of();
        }
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(folder, "*.jar")) {
            for (Path p : ds) {
                out.add(p.toAbsolutePath().normalize());
            }
        } catch (IOException | RuntimeException e) {
            failures.add(new Failure(folder, new IOException("cannot list the plugin folder " + folder + ": " + e
                    + "; fix its permissions or remove it from " + ENV, e)));
        }
        out.sort(null);
        return out;
    }

    private static Path launcherFolder() {
        return CliSettings.PLUGINS_DIR.value().map(Path::of).orElse(Path.of(""));
    }

    /** Resolves the modular jars together; when that fails, each alone, so one bad module spares the rest. */
    private static Optional<ModuleLayer> layer(List<Path> modular, ClassLoader parent, List<Failure> failures) {
        try {
            return Optional.of(defineLayer(modular, parent));
        } catch (RuntimeException together) {
            LOG.debug("plugin modules do not resolve together ({}); trying each alone", together.toString());
        }
        List<Path> good = new ArrayList<>();
        for (Path jar : modular) {
            try {
                defineLayer(List.of(jar), parent);
                good.add(jar);
            } catch (RuntimeException e) {
                failures.add(new Failure(jar, e));
            }
        }
        return good.isEmpty() ? Optional.empty() : Optional.of(defineLayer(good, parent));
    }

    @SuppressWarnings("restricted") // enableNativeAccess: the launcher grants the CLI native access
    private static ModuleLayer defineLayer(List<Path> jars, ClassLoader parent) {
        ModuleFinder finder = ModuleFinder.of(jars.toArray(Path[]::new));
        Set<String> roots = new LinkedHashSet<>();
        for (ModuleReference ref : finder.findAll()) {
            roots.add(ref.descriptor().name());
        }
        Configuration cf = ModuleLayer.boot().configuration().resolveAndBind(finder, ModuleFinder.of(), roots);
        ModuleLayer.Controller c = ModuleLayer.defineModulesWithOneLoader(cf, List.of(ModuleLayer.boot()), parent);
        // backends call native code through FFM; the user put these jars here to run them
        for (Module m : c.layer().modules()) {
            c.enableNativeAccess(m);
        }
        return c.layer();
    }

    private static URL[] urls(List<Path> jars) {
        URL[] urls = new URL[jars.size()];
        for (int i = 0; i < urls.length; i++) {
            try {
                urls[i] = jars.get(i).toUri().toURL();
            } catch (MalformedURLException e) {
                throw new IllegalArgumentException("plugin jar path " + jars.get(i) + " is not a valid URL", e);
            }
        }
        return urls;
    }

    /**
     * @param builder a registry builder
     * @return the builder, with the plugins' loader and layer as sources and each failure as unavailable
     */
    ProviderRegistry.Builder addTo(ProviderRegistry.Builder builder) {
        builder.addClassLoader(loader);
        layer.ifPresent(builder::addModuleLayer);
        for (Failure f : failures) {
            Path name = f.jar().getFileName();
            builder.addUnavailable(f.jar().toString(), name == null ? f.jar().toString() : name.toString(), f.cause());
        }
        return builder;
    }

    /**
     * @param source a row's source: a path, {@code module NAME (path)}, {@code bound} or a description
     * @return the jar path when it is a plugin, "" for a catalogue row, "bound by the host" for a
     *     bound provider, else {@code built in}
     */
    String origin(String source) {
        for (Path jar : jars) {
            if (source.contains(jar.toString())) {
                return jar.toString();
            }
        }
        if (ProviderRegistry.BOUND.equals(source)) {
            return "bound by the host";
        }
        if (source.startsWith("catalogue")) {
            return "";
        }
        return "built in";
    }
}
