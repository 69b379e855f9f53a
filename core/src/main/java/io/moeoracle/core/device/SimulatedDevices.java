package io.moeoracle.core.device;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.SimulatedDeviceCatalogue;
import io.moeoracle.core.internal.ServiceScan;
import io.moeoracle.core.select.SelectionSettings;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The what-if devices ({@code sim:...}) for planning and tests, merged from every
 * {@link SimulatedDeviceCatalogue}: the built-in one first
 * ({@link SimulatedDeviceCatalogue#builtIn()}, the in-tree backends' hardware), then the catalogues
 * backends register with {@link ServiceLoader}, then the files named by {@value #FILES_PROPERTY}
 * (a path list). A device that breaks the catalogue contract, or reuses an id, is skipped with one
 * WARN line (and listed in {@link #problems()}); a catalogue or file that fails is too. The feature
 * flags are those of {@link io.moeoracle.api.device.DeviceFeatures}.
 *
 * <p>The static methods use the catalogues visible to core's class loader, the thread's context
 * loader and the boot layer, read once; {@link DeviceRegistry#discover()} builds its own instance
 * with the same sources at its time.
 */
public final class SimulatedDevices {
    /** Prefix of every simulated device id. */
    public static final String PREFIX = SimulatedDeviceCatalogue.PREFIX;
    /** System property: catalogue files to read (separated by the platform's path separator). */
    public static final String FILES_PROPERTY = SelectionSettings.SIMULATED_DEVICES.name();
    private static final Logger LOG = LoggerFactory.getLogger(SimulatedDevices.class);

    private final Map<String, DeviceInfo> devices;
    private final List<String> problems;

    private SimulatedDevices(Map<String, DeviceInfo> devices, List<String> problems) {
        this.devices = devices;
        this.problems = List.copyOf(problems);
    }

    /** The default instance, built on first use. */
    private static final class Defaults {
        static final SimulatedDevices INSTANCE = discover(defaultLoaders());
    }

    private static Set<ClassLoader> defaultLoaders() {
        Set<ClassLoader> loaders = new LinkedHashSet<>();
        if (SimulatedDevices.class.getClassLoader() != null) {
            loaders.add(SimulatedDevices.class.getClassLoader());
        }
        if (Thread.currentThread().getContextClassLoader() != null) {
            loaders.add(Thread.currentThread().getContextClassLoader());
        }
        return loaders;
    }

    /**
     * The built-in catalogue, then every catalogue found with {@link ServiceLoader} on these loaders
     * (and the boot layer when core is a named module), then the files of {@value #FILES_PROPERTY}.
     *
     * @param loaders the class loaders to search
     * @return the merged devices
     */
    static SimulatedDevices discover(Set<ClassLoader> loaders) {
        List<SimulatedDeviceCatalogue> catalogues = new ArrayList<>();
        catalogues.add(SimulatedDeviceCatalogue.builtIn());
        List<String> problems = new ArrayList<>();
        Set<Class<?>> seen = new HashSet<>();
        seen.add(SimulatedDeviceCatalogue.builtIn().getClass());
        for (ClassLoader cl : loaders) {
            add(ServiceScan.scan(ServiceLoader.load(SimulatedDeviceCatalogue.class, cl), "class loader " + cl, seen),
                    catalogues, problems);
        }
        if (SimulatedDevices.class.getModule().isNamed()) {
            add(ServiceScan.scan(ServiceLoader.load(ModuleLayer.boot(), SimulatedDeviceCatalogue.class), "boot layer",
                    seen), catalogues, problems);
        }
        String files = SelectionSettings.SIMULATED_DEVICES.valueOrDefault();
        for (String file : files.split(File.pathSeparator)) {
            if (!file.isBlank()) {
                catalogues.add(fromFile(Path.of(file.trim()), problems));
            }
        }
        return merge(catalogues, problems);
    }

    private static void add(ServiceScan.Scan<SimulatedDeviceCatalogue> scan, List<SimulatedDeviceCatalogue> catalogues,
                            List<String> problems) {
        for (ServiceScan.Found<SimulatedDeviceCatalogue> f : scan.found()) {
            catalogues.add(f.instance());
        }
        for (ServiceScan.Failed f : scan.failed()) {
            problems.add("simulated-device catalogue " + f.name() + " from " + f.source() + " failed to load: "
                    + ServiceScan.describe(f.cause()));
        }
    }

    /**
     * Exactly these catalogues, in order (the built-in one is not added).
     *
     * @param catalogues the catalogues
     * @return the merged devices
     */
    public static SimulatedDevices of(List<? extends SimulatedDeviceCatalogue> catalogues) {
        return merge(catalogues, new ArrayList<>());
    }

    private static SimulatedDeviceCatalogue fromFile(Path file, List<String> problems) {
        List<DeviceInfo> parsed;
        try {
            parsed = SimulatedDeviceCatalogue.parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
        } catch (IOException | RuntimeException e) {
            problems.add("simulated-device file " + file + " (-D" + FILES_PROPERTY + ") was not read: " + e.getMessage()
                    + "; fix the file or the property");
            parsed = List.of();
        }
        List<DeviceInfo> devices = parsed;
        return new SimulatedDeviceCatalogue() {
            @Override
            public String id() {
                return "file " + file;
            }

            @Override
            public List<DeviceInfo> devices() {
                return devices;
            }
        };
    }

    private static SimulatedDevices merge(List<? extends SimulatedDeviceCatalogue> catalogues, List<String> problems) {
        Map<String, DeviceInfo> m = new LinkedHashMap<>();
        Map<String, String> origin = new LinkedHashMap<>();
        for (SimulatedDeviceCatalogue c : catalogues) {
            String name;
            List<DeviceInfo> list;
            try {
                name = c.id();
                list = c.devices();
            } catch (RuntimeException | LinkageError e) {
                problems.add("simulated-device catalogue " + c.getClass().getName() + " threw "
                        + ServiceScan.describe(e));
                continue;
            }
            for (DeviceInfo d : list) {
                try {
                    SimulatedDeviceCatalogue.check(d);
                } catch (RuntimeException e) {
                    problems.add("catalogue " + name + ": " + e.getMessage() + "; the device is skipped");
                    continue;
                }
                String prev = origin.putIfAbsent(d.id(), name);
                if (prev != null) {
                    problems.add("catalogue " + name + " defines " + d.id() + " again (first defined by " + prev
                            + "); the later one is skipped: give it another name");
                    continue;
                }
                m.put(d.id(), d);
            }
        }
        problems.forEach(p -> LOG.warn("simulated devices: {}", p));
        return new SimulatedDevices(m, problems);
    }

    /**
     * @param id a simulated device id such as {@code sim:sm_90} (trimmed, any case)
     * @return the device
     * @throws UnknownDeviceException listing the known ids when there is no such device
     */
    public DeviceInfo device(String id) {
        DeviceInfo d = devices.get(id.trim());
        if (d == null) {
            d = devices.get(id.trim().toLowerCase(Locale.ROOT));
        }
        if (d == null) {
            throw new UnknownDeviceException(id, deviceIds(), "unknown simulated device '" + id + "'; the simulated"
                    + " devices are " + String.join(", ", deviceIds()) + ". Use one of these, or a real device of this"
                    + " host (run `moe-oracle devices` to list them); add your own with a SimulatedDeviceCatalogue or"
                    + " -D" + FILES_PROPERTY + "=<file>.");
        }
        return d;
    }

    /** @return every simulated device id: the built-in ones (NVIDIA first, CPUs last), then the others' */
    public List<String> deviceIds() {
        return List.copyOf(devices.keySet());
    }

    /** @return every simulated device, in the order of {@link #deviceIds()} */
    public List<DeviceInfo> devices() {
        return List.copyOf(devices.values());
    }

    /** @return what was skipped and why: catalogues that failed, devices that broke the contract */
    public List<String> problems() {
        return problems;
    }

    /**
     * @param id a simulated device id such as {@code sim:sm_90}
     * @return the device, from the default catalogues
     * @throws UnknownDeviceException listing the known ids when there is no such device
     */
    public static DeviceInfo get(String id) {
        return defaults().device(id);
    }

    /** @return every simulated device id of the default catalogues */
    public static List<String> ids() {
        return defaults().deviceIds();
    }

    /** @return every simulated device of the default catalogues, in the order of {@link #ids()} */
    public static List<DeviceInfo> all() {
        return defaults().devices();
    }

    /** @return the devices of the default catalogues (built-in, ServiceLoader, files) */
    public static SimulatedDevices defaults() {
        return Defaults.INSTANCE;
    }

    /**
     * @param id a device id
     * @return whether it names a simulated device (it starts with {@code sim:})
     */
    public static boolean isSimulatedId(String id) {
        return id.trim().toLowerCase(Locale.ROOT).startsWith(PREFIX);
    }
}
