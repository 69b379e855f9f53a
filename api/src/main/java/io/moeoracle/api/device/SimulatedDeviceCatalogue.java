package io.moeoracle.api.device;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * A list of what-if devices ({@code sim:NAME}) that a provider judges by its rules for that
 * hardware while this host need not have it. The built-in catalogue ({@link #builtIn()}) covers the
 * in-tree backends' hardware; a backend author adds devices for their own hardware in one of two
 * ways, and core's device registry merges them after the built-in ones:
 * <ul>
 *   <li>a class implementing this interface, registered with {@link java.util.ServiceLoader}
 *       ({@code META-INF/services/io.moeoracle.api.device.SimulatedDeviceCatalogue}, or
 *       {@code provides} in {@code module-info.java}) in the backend's jar;</li>
 *   <li>a text file in the format {@link #parse} reads, named by the system property
 *       {@code moe.devices.simulated} (a path list).</li>
 * </ul>
 *
 * <p>Contract (checked by {@link #check}; a device that breaks it is skipped with a warning):
 * the id is {@code sim:} plus one lower-case word; {@link DeviceInfo#simulated()} is true; its
 * {@link DeviceInfo#address()} is {@link DeviceAddress.Simulated} with that word; the features use
 * the {@link DeviceFeatures} spellings where one exists. An id already taken (by the built-in
 * catalogue or an earlier one) is kept as first defined. {@link #devices()} is cheap, touches no
 * native library, and returns the same list every call. Implementations are safe to call from any
 * thread.
 */
public interface SimulatedDeviceCatalogue {
    /** Prefix of every simulated device id. */
    String PREFIX = "sim:";

    /** @return a short name for messages, e.g. {@code builtin} or the backend's id */
    String id();

    /** @return the catalogue's devices, each meeting the contract above */
    List<DeviceInfo> devices();

    /**
     * Builds a simulated device that meets the contract.
     *
     * @param name the word after {@code sim:}, e.g. {@code sm_90} or {@code acme-x1}
     * @param vendor the vendor
     * @param arch the architecture as the vendor's probe would report it
     * @param marketingName what the hardware is called
     * @param computeUnits SMs, CUs, EUs or cores
     * @param memoryBytes device memory
     * @param features feature flags ({@link DeviceFeatures})
     * @return the device, id {@code sim:name}
     */
    static DeviceInfo device(String name, Vendor vendor, String arch, String marketingName, int computeUnits,
                             long memoryBytes, Set<String> features) {
        DeviceAddress.Simulated address = new DeviceAddress.Simulated(name.toLowerCase(Locale.ROOT));
        return new DeviceInfo(address.id(), vendor, arch, marketingName, computeUnits, memoryBytes, features, true,
                address, List.of());
    }

    /**
     * Checks one device against the contract.
     *
     * @param device a device a catalogue returned
     * @throws IllegalArgumentException naming the device and the rule it breaks
     */
    static void check(DeviceInfo device) {
        Objects.requireNonNull(device, "device");
        if (!device.simulated()) {
            throw new IllegalArgumentException(device.id() + " is not marked simulated; a catalogue lists what-if"
                    + " devices only (build them with SimulatedDeviceCatalogue.device)");
        }
        if (!(device.address() instanceof DeviceAddress.Simulated s) || !device.id().equals(s.id())) {
            throw new IllegalArgumentException(device.id() + " must have id 'sim:NAME' and the address"
                    + " DeviceAddress.Simulated(NAME); it has address " + device.address());
        }
        if (!s.name().equals(s.name().toLowerCase(Locale.ROOT))) {
            throw new IllegalArgumentException(device.id() + ": the name after sim: must be lower case");
        }
    }

    /**
     * Reads a catalogue file: one device a line, fields separated by {@code |} (spaces around
     * them ignored), {@code #} starts a comment line:
     * <pre>
     * # name  | vendor | arch   | marketing name  | compute units | memory | features
     * acme-x1 | other  | acme1  | ACME X1 (64 GB) | 96            | 64GiB  | bf16,fp8
     * </pre>
     * vendor is a {@link Vendor} name (any case); memory is bytes, or a number with {@code GiB},
     * {@code GB}, {@code MiB} or {@code MB}; features are comma-separated ({@code -} for none).
     *
     * @param text the file's content
     * @param source where it came from, for messages (a path)
     * @return the devices, in file order
     * @throws IllegalArgumentException naming the source, line and field that is wrong
     */
    static List<DeviceInfo> parse(String text, String source) {
        List<DeviceInfo> out = new ArrayList<>();
        String[] lines = text.split("\\R");
        for (int n = 0; n < lines.length; n++) {
            String line = lines[n].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String where = source + " line " + (n + 1);
            String[] f = line.split("\\|", -1);
            if (f.length != 7) {
                throw new IllegalArgumentException(where + " has " + f.length + " fields; a simulated device takes 7:"
                        + " name | vendor | arch | marketing name | compute units | memory | features");
            }
            for (int i = 0; i < f.length; i++) {
                f[i] = f[i].strip();
            }
            Vendor vendor;
            try {
                vendor = Vendor.valueOf(f[1].toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where + ": vendor '" + f[1] + "' is not one of "
                        + List.of(Vendor.values()), e);
            }
            int units;
            try {
                units = Integer.parseInt(f[4]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(where + ": compute units '" + f[4] + "' is not a whole number", e);
            }
            Set<String> features = new LinkedHashSet<>();
            if (!f[6].equals("-")) {
                for (String flag : f[6].split(",")) {
                    if (!flag.isBlank()) {
                        features.add(flag.strip().toLowerCase(Locale.ROOT));
                    }
                }
            }
            try {
                out.add(device(f[0], vendor, f[2], f[3], units, bytes(f[5], where), features));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
            }
        }
        return List.copyOf(out);
    }

    private static long bytes(String s, String where) {
        String t = s.replace(" ", "");
        long unit = 1;
        for (String[] u : new String[][] {{"GiB", "1073741824"}, {"GB", "1000000000"}, {"MiB", "1048576"},
                {"MB", "1000000"}}) {
            if (t.endsWith(u[0])) {
                unit = Long.parseLong(u[1]);
                t = t.substring(0, t.length() - u[0].length());
                break;
            }
        }
        try {
            return Math.multiplyExact(Long.parseLong(t), unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException(where + ": memory '" + s + "' is not bytes or a number with GiB, GB,"
                    + " MiB or MB", e);
        }
    }

    /**
     * The catalogue of the in-tree backends' hardware: NVIDIA {@code sim:sm_80}, {@code sim:sm_89},
     * {@code sim:sm_90}, {@code sim:sm_100}; AMD {@code sim:gfx942}, {@code sim:gfx950}; Intel
     * {@code sim:xe-hpc}; CPUs {@code sim:cpu-avx512}, {@code sim:cpu-avx2}. The flags are those of
     * {@link DeviceFeatures} each such device really has.
     *
     * @return the built-in catalogue
     */
    static SimulatedDeviceCatalogue builtIn() {
        return BuiltInSimulatedDevices.CATALOGUE;
    }
}
