package io.moeoracle.driver.opencl;

import io.moeoracle.driver.opencl.ffi.OpenClSettings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Device binaries of built programs on disk, keyed by SHA-256 of device name, driver version,
 * platform version, build options and source, so a driver update or a source change misses. The
 * folder is {@code moe.opencl.cache} ({@link OpenClSettings#CACHE}; {@code off} disables), default
 * {@code ~/.cache/moe-oracle/opencl}. I/O failures only cost a rebuild: they are logged, not thrown.
 */
public final class ProgramCache {
    private static final Logger LOG = LoggerFactory.getLogger(ProgramCache.class);

    private final Optional<Path> folder;

    private ProgramCache(Optional<Path> folder) {
        this.folder = folder;
    }

    /** @return the cache the system properties describe */
    public static ProgramCache fromSystemProperties() {
        String v = OpenClSettings.CACHE.value().orElse(null);
        if (v != null && (v.equalsIgnoreCase("off") || v.equalsIgnoreCase("none") || v.equalsIgnoreCase("false"))) {
            return disabled();
        }
        if (v != null) {
            return in(Path.of(v));
        }
        return in(Path.of(System.getProperty("user.home", System.getProperty("java.io.tmpdir")), ".cache",
                "moe-oracle", "opencl"));
    }

    /**
     * @param folder where to keep binaries (created on first store)
     * @return a cache in that folder
     */
    public static ProgramCache in(Path folder) {
        return new ProgramCache(Optional.of(folder));
    }

    /** @return a cache that never hits and stores nothing */
    public static ProgramCache disabled() {
        return new ProgramCache(Optional.empty());
    }

    /** @return the folder, empty when disabled */
    public Optional<Path> folder() {
        return folder;
    }

    /**
     * @param device the device
     * @param source the source
     * @param options the build options
     * @return the hex key
     */
    public String key(ClDevice device, String source, String options) {
        return key(device.name(), device.driverVersion(), device.platform().version(), source, options);
    }

    static String key(String deviceName, String driverVersion, String platformVersion, String source, String options) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (String s : new String[] {deviceName, driverVersion, platformVersion, options, source}) {
                md.update(s.getBytes(StandardCharsets.UTF_8));
                md.update((byte) 0);
            }
            return HexFormat.of().formatHex(md.digest()).substring(0, 32);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    private Optional<Path> file(String key) {
        return folder.map(f -> f.resolve(key.toLowerCase(Locale.ROOT) + ".clbin"));
    }

    /**
     * @param key the key
     * @return the stored binary, if any
     */
    public Optional<byte[]> load(String key) {
        Optional<Path> f = file(key);
        if (f.isEmpty() || !Files.isRegularFile(f.get())) {
            return Optional.empty();
        }
        try {
            byte[] b = Files.readAllBytes(f.get());
            return b.length == 0 ? Optional.empty() : Optional.of(b);
        } catch (IOException e) {
            LOG.debug("cannot read cached OpenCL binary {}: {}", f.get(), e.toString());
            return Optional.empty();
        }
    }

    /**
     * Stores a binary atomically (temporary file, then move).
     *
     * @param key the key
     * @param binary the device binary; empty ones are not stored
     */
    public void store(String key, byte[] binary) {
        Optional<Path> f = file(key);
        if (f.isEmpty() || binary.length == 0) {
            return;
        }
        try {
            Files.createDirectories(f.get().getParent());
            Path tmp = Files.createTempFile(f.get().getParent(), key, ".tmp");
            Files.write(tmp, binary);
            Files.move(tmp, f.get(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | UnsupportedOperationException e) {
            LOG.warn("cannot store the OpenCL program binary in {} ({}); set -D{}=<folder> or =off", f.get(),
                    e.toString(), OpenClSettings.CACHE.name());
        }
    }
}
