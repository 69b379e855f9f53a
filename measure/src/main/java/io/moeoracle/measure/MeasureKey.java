package io.moeoracle.measure;

import io.moeoracle.bench.json.Json;
import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.MoeLayerSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * What a measurement is valid for: the device (name and UUID), its driver's version, the jars of
 * the measured providers (and of this module, whose harness did the timing), and the layer. A
 * change of any part names another cache file, so it is measured anew.
 *
 * @param deviceName the device's name
 * @param deviceUuid the driver's UUID of the device (its own address's, else an alias's), else its id
 * @param driver the device's driver version as its probe read it ({@link DeviceInfo#driverVersion()}:
 *     for CUDA {@code cuDriverGetVersion} and the NVIDIA kernel module's version, for HIP the runtime's
 *     and driver's, for OpenCL the platform's and {@code CL_DRIVER_VERSION}, the operating system for
 *     the host CPU), or {@value #NO_DRIVER_VERSION}
 * @param jars each measured provider's id and the version of the jar it came from, and
 *     {@value #HARNESS} with this module's
 * @param spec the layer, every field ({@link MoeLayerSpec#toString()})
 */
public record MeasureKey(String deviceName, String deviceUuid, String driver, Map<String, String> jars, String spec) {
    /** The driver part of the key for a device whose probe reported no driver version. */
    public static final String NO_DRIVER_VERSION = "not reported by the device's probe";
    /** The entry of {@link #jars()} for this module's own jar (the timing harness). */
    public static final String HARNESS = "(measure)";

    /** Copies and sorts the jar versions; rejects nulls. */
    public MeasureKey {
        Objects.requireNonNull(deviceName, "deviceName");
        Objects.requireNonNull(deviceUuid, "deviceUuid");
        Objects.requireNonNull(driver, "driver");
        Objects.requireNonNull(spec, "spec");
        jars = java.util.Collections.unmodifiableMap(new TreeMap<>(jars));
    }

    /**
     * @param spec the layer
     * @param device the device
     * @param providers the providers to be measured, by id
     * @return the key of that measurement
     */
    public static MeasureKey of(MoeLayerSpec spec, DeviceInfo device, Map<String, MoeKernelProvider> providers) {
        return of(spec, device, providers, MeasureKey::jarVersion);
    }

    /**
     * @param spec the layer
     * @param device the device
     * @param providers the providers to be measured, by id
     * @param jarVersions the version of the jar a class came from ({@link #jarVersion(Class)}; tests
     *     stand in another)
     * @return the key of that measurement
     */
    static MeasureKey of(MoeLayerSpec spec, DeviceInfo device, Map<String, MoeKernelProvider> providers,
                         Function<Class<?>, String> jarVersions) {
        Map<String, String> jars = new TreeMap<>();
        providers.forEach((id, p) -> jars.put(id, jarVersions.apply(p.getClass())));
        jars.put(HARNESS, jarVersions.apply(MeasureKey.class));
        return new MeasureKey(device.name(), device.uuid().orElse(device.id()),
                device.driverVersion().orElse(NO_DRIVER_VERSION), jars, spec.toString());
    }

    /**
     * The version of the jar a class came from: the module's version, else the manifest's
     * implementation version; for a SNAPSHOT or no version, also the jar file's name, size and time
     * (a rebuilt jar is another jar), or {@code classes} for a folder.
     *
     * @param c the class
     * @return its jar's version
     */
    static String jarVersion(Class<?> c) {
        String v = null;
        if (c.getModule().getDescriptor() != null && c.getModule().getDescriptor().rawVersion().isPresent()) {
            v = c.getModule().getDescriptor().rawVersion().get();
        } else if (c.getPackage() != null && c.getPackage().getImplementationVersion() != null) {
            v = c.getPackage().getImplementationVersion();
        }
        if (v != null && !v.endsWith("-SNAPSHOT")) {
            return v;
        }
        // no version, or a SNAPSHOT (the same version across rebuilds): the jar file itself tells them apart
        String file = jarFile(c);
        return v == null ? file : v + " (" + file + ")";
    }

    private static String jarFile(Class<?> c) {
        try {
            var src = c.getProtectionDomain().getCodeSource();
            if (src != null && src.getLocation() != null) {
                Path p = Path.of(src.getLocation().toURI());
                if (Files.isRegularFile(p)) {
                    return p.getFileName() + " " + Files.size(p) + " " + Files.getLastModifiedTime(p).toMillis();
                }
            }
        } catch (Exception e) {
            // no location we can read: "classes" stands in
        }
        return "classes";
    }

    /** @return the key as JSON-ready values */
    Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("deviceName", deviceName);
        m.put("deviceUuid", deviceUuid);
        m.put("driver", driver);
        m.put("jars", new LinkedHashMap<>(jars));
        m.put("spec", spec);
        return m;
    }

    @SuppressWarnings("unchecked")
    static MeasureKey fromMap(Map<String, Object> m) {
        Map<String, String> jars = new TreeMap<>();
        ((Map<String, Object>) m.get("jars")).forEach((k, v) -> jars.put(k, (String) v));
        return new MeasureKey((String) m.get("deviceName"), (String) m.get("deviceUuid"), (String) m.get("driver"),
                jars, (String) m.get("spec"));
    }

    /** @return the cache file's name: a digest of every part of the key */
    public String fileName() {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(Json.write(toMap()).getBytes(StandardCharsets.UTF_8));
            return "measured-" + HexFormat.of().formatHex(d, 0, 12) + ".json";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }
}
