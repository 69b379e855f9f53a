package io.moeoracle.core.device;

import io.moeoracle.api.DeviceProbe;
import io.moeoracle.api.device.DeviceAddress;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.core.internal.ServiceScan;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The device probes of this host ({@link DeviceProbe}s found with {@link ServiceLoader}) and the
 * devices they find, probed once on first use. A probe that fails to load or throws becomes a
 * {@link DeviceProbe.Result} with no devices and the reason.
 */
public final class DeviceRegistry {
    private static final Logger LOG = LoggerFactory.getLogger(DeviceRegistry.class);

    private final List<DeviceProbe> probes;
    private final List<DeviceProbe.Result> loadFailures;
    /** The class loaders the simulated devices are read from, when they are read on first use. */
    private final Set<ClassLoader> simulatedLoaders;
    private volatile SimulatedDevices simulated;
    private volatile List<DeviceProbe.Result> results;

    private DeviceRegistry(List<DeviceProbe> probes, List<DeviceProbe.Result> loadFailures, SimulatedDevices simulated) {
        this.probes = List.copyOf(probes);
        this.loadFailures = List.copyOf(loadFailures);
        this.simulated = Objects.requireNonNull(simulated, "simulated");
        this.simulatedLoaders = Set.of();
    }

    /** Reads the simulated devices from these loaders on first use: most hosts never name a sim: device. */
    private DeviceRegistry(List<DeviceProbe> probes, List<DeviceProbe.Result> loadFailures, Set<ClassLoader> loaders) {
        this.probes = List.copyOf(probes);
        this.loadFailures = List.copyOf(loadFailures);
        this.simulatedLoaders = loaders;
    }

    /**
     * Finds the probes with {@link ServiceLoader} over this class's loader, the thread's context
     * loader and, on the module path, the boot layer; the simulated-device catalogues are read from
     * the same sources when first needed.
     *
     * @return the registry; nothing is probed yet
     */
    public static DeviceRegistry discover() {
        Set<ClassLoader> loaders = new LinkedHashSet<>();
        if (DeviceRegistry.class.getClassLoader() != null) {
            loaders.add(DeviceRegistry.class.getClassLoader());
        }
        if (Thread.currentThread().getContextClassLoader() != null) {
            loaders.add(Thread.currentThread().getContextClassLoader());
        }
        List<DeviceProbe> found = new ArrayList<>();
        List<DeviceProbe.Result> failed = new ArrayList<>();
        Set<Class<?>> seen = new HashSet<>();
        for (ClassLoader cl : loaders) {
            add(ServiceScan.scan(ServiceLoader.load(DeviceProbe.class, cl), "class loader " + cl, seen), found, failed);
        }
        if (DeviceRegistry.class.getModule().isNamed()) {
            add(ServiceScan.scan(ServiceLoader.load(ModuleLayer.boot(), DeviceProbe.class), "boot layer", seen), found,
                    failed);
        }
        return new DeviceRegistry(found, failed, java.util.Collections.unmodifiableSet(loaders));
    }

    private static void add(ServiceScan.Scan<DeviceProbe> scan, List<DeviceProbe> found, List<DeviceProbe.Result> failed) {
        for (ServiceScan.Found<DeviceProbe> f : scan.found()) {
            found.add(f.instance());
        }
        for (ServiceScan.Failed f : scan.failed()) {
            failed.add(failure(f));
        }
    }

    /**
     * @param probes the probes to use, in order
     * @return a registry over exactly these probes, with the default simulated devices
     */
    public static DeviceRegistry of(List<? extends DeviceProbe> probes) {
        return new DeviceRegistry(List.copyOf(probes), List.of(), SimulatedDevices.defaults());
    }

    /**
     * @param probes the probes to use, in order
     * @param simulated the simulated devices {@code sim:...} resolves to
     * @return a registry over exactly these probes and simulated devices
     */
    public static DeviceRegistry of(List<? extends DeviceProbe> probes, SimulatedDevices simulated) {
        return new DeviceRegistry(List.copyOf(probes), List.of(), simulated);
    }

    /** @return the simulated devices this registry resolves {@code sim:...} to (read on first use) */
    public SimulatedDevices simulated() {
        SimulatedDevices s = simulated;
        if (s == null) {
            synchronized (this) {
                s = simulated;
                if (s == null) {
                    s = SimulatedDevices.discover(simulatedLoaders);
                    simulated = s;
                }
            }
        }
        return s;
    }

    private static DeviceProbe.Result failure(ServiceScan.Failed f) {
        return DeviceProbe.Result.none(f.name(), "probe " + f.name() + " from " + f.source() + " failed to load: "
                + ServiceScan.describe(f.cause()));
    }

    /** @return the probes, in discovery order */
    public List<DeviceProbe> probes() {
        return probes;
    }

    /**
     * Runs every probe once (later calls return the same results); probes that failed to load
     * come last.
     *
     * @return one result per probe
     */
    public List<DeviceProbe.Result> probeAll() {
        List<DeviceProbe.Result> r = results;
        if (r == null) {
            synchronized (this) {
                r = results;
                if (r == null) {
                    r = runProbes();
                    results = r;
                }
            }
        }
        return r;
    }

    private List<DeviceProbe.Result> runProbes() {
        List<DeviceProbe.Result> out = new ArrayList<>();
        for (DeviceProbe p : probes) {
            String id = safeId(p);
            DeviceProbe.Result result;
            try {
                result = p.probe();
                if (result == null) {
                    result = DeviceProbe.Result.none(id, "probe " + id + " returned null");
                }
            } catch (RuntimeException | LinkageError e) {
                result = DeviceProbe.Result.none(id, "probe " + id + " threw " + ServiceScan.describe(e));
            }
            if (result.devices().isEmpty()) {
                LOG.debug("device probe {} found nothing: {}", id, result.reason().orElse("no reason given"));
            }
            out.add(result);
        }
        out.addAll(loadFailures);
        return linkAliases(out);
    }

    /**
     * One physical device found by two probes (an NVIDIA GPU through CUDA and through NVIDIA's
     * OpenCL) reports the same UUID to both: each entry gets the other's address as an alias, so a
     * backend reaches it through its own driver whichever entry the user names.
     */
    static List<DeviceProbe.Result> linkAliases(List<DeviceProbe.Result> results) {
        Map<String, List<DeviceAddress>> byUuid = new HashMap<>();
        // loops rather than lambdas: this runs in a cold JVM's first discovery
        boolean anyUuid = false;
        for (DeviceProbe.Result r : results) {
            for (DeviceInfo d : r.devices()) {
                Optional<String> u = d.address().uuid();
                if (u.isPresent()) {
                    anyUuid = true;
                    List<DeviceAddress> same = byUuid.get(u.get());
                    if (same == null) {
                        same = new ArrayList<>();
                        byUuid.put(u.get(), same);
                    }
                    same.add(d.address());
                }
            }
        }
        if (!anyUuid) {
            return List.copyOf(results);
        }
        List<DeviceProbe.Result> out = new ArrayList<>();
        for (DeviceProbe.Result r : results) {
            List<DeviceInfo> devices = new ArrayList<>();
            for (DeviceInfo d : r.devices()) {
                Optional<String> u = d.address().uuid();
                List<DeviceAddress> same = u.isPresent() ? byUuid.get(u.get()) : List.of();
                if (same.size() > 1) {
                    List<DeviceAddress> aliases = new ArrayList<>(d.aliases());
                    same.stream().filter(a -> !a.id().equals(d.id()) && !aliases.contains(a)).forEach(aliases::add);
                    LOG.debug("device {} is the same hardware as {}", d.id(), aliases.stream().map(DeviceAddress::id).toList());
                    devices.add(d.withAliases(aliases));
                } else {
                    devices.add(d);
                }
            }
            out.add(new DeviceProbe.Result(r.probeId(), devices, r.reason()));
        }
        return List.copyOf(out);
    }

    private static String safeId(DeviceProbe p) {
        try {
            String id = p.id();
            return id == null || id.isBlank() ? p.getClass().getName() : id;
        } catch (RuntimeException | LinkageError e) {
            return p.getClass().getName();
        }
    }

    /** @return every real device the probes found, in probe order */
    public List<DeviceInfo> devices() {
        List<DeviceInfo> out = new ArrayList<>();
        for (DeviceProbe.Result r : probeAll()) {
            out.addAll(r.devices());
        }
        return List.copyOf(out);
    }

    /**
     * Turns a device spec into a device.
     *
     * @param spec {@code auto} (the first real non-CPU device, else the CPU), {@code sim:...} (a
     *     {@link SimulatedDevices simulated device}) or the id of a real device ({@code cpu},
     *     {@code cuda:0}, ...)
     * @return the device
     * @throws UnknownDeviceException when nothing matches; the message lists what exists
     */
    public DeviceInfo resolve(String spec) {
        Objects.requireNonNull(spec, "spec");
        String s = spec.trim();
        if (SimulatedDevices.isSimulatedId(s)) {
            return simulated().device(s);
        }
        List<DeviceInfo> devices = devices();
        if (s.equalsIgnoreCase("auto")) {
            Optional<DeviceInfo> accelerator = devices.stream()
                    .filter(d -> d.vendor() != Vendor.CPU && !d.simulated()).findFirst();
            if (accelerator.isPresent()) {
                return accelerator.get();
            }
            // the host CPU itself before a CPU seen through another API (PoCL's OpenCL device), whatever the probe order
            Optional<DeviceInfo> cpu = devices.stream().filter(d -> d.vendor() == Vendor.CPU)
                    .min(java.util.Comparator.comparingInt(d -> d.id().equals("cpu") ? 0 : 1));
            if (cpu.isPresent()) {
                return cpu.get();
            }
            throw new UnknownDeviceException(spec, List.of(), "no device was found on this host for --device auto"
                    + " (probes: " + describeProbes() + "). Name a simulated device instead (one of "
                    + String.join(", ", simulated().deviceIds()) + "), or run `moe-oracle devices` to see why each"
                    + " probe found nothing.");
        }
        for (DeviceInfo d : devices) {
            if (d.id().equals(s)) {
                return d;
            }
        }
        String lower = s.toLowerCase(Locale.ROOT);
        for (DeviceInfo d : devices) {
            if (d.id().toLowerCase(Locale.ROOT).equals(lower)) {
                return d;
            }
        }
        List<String> known = new ArrayList<>();
        known.add("auto");
        devices.forEach(d -> known.add(d.id()));
        known.addAll(simulated().deviceIds());
        throw new UnknownDeviceException(spec, known, "no device '" + spec + "' on this host; it has "
                + (devices.isEmpty() ? "none" : String.join(", ", devices.stream().map(DeviceInfo::id).toList()))
                + ", and the simulated devices are " + String.join(", ", simulated().deviceIds())
                + ". Use one of these or 'auto'; run `moe-oracle devices` to see what each probe found.");
    }

    private String describeProbes() {
        List<String> parts = new ArrayList<>();
        for (DeviceProbe.Result r : probeAll()) {
            parts.add(r.probeId() + ": " + r.reason().orElse(r.devices().size() + " device(s)"));
        }
        return parts.isEmpty() ? "none registered" : String.join("; ", parts);
    }
}
