package io.moeoracle.api.device;

import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * How a driver reaches a device: the typed form of a device id. A backend reads the address of the
 * kind it launches through ({@link DeviceInfo#address(Class)}) instead of parsing ids. One physical
 * GPU seen through two drivers (an NVIDIA GPU through CUDA and through NVIDIA's OpenCL) is one
 * {@link DeviceInfo} per driver, and each carries the other's address as an alias when the drivers
 * report the same UUID (see {@link DeviceInfo#aliases()}).
 */
public sealed interface DeviceAddress
        permits DeviceAddress.Host, DeviceAddress.Cuda, DeviceAddress.Hip, DeviceAddress.OpenCl,
        DeviceAddress.Simulated, DeviceAddress.Other {

    /** @return the display id, e.g. {@code cuda:0}, {@code opencl:1:0}, {@code cpu}, {@code sim:sm_90} */
    String id();

    /** @return the driver's UUID of the physical device (lower-case hex, no dashes), when it reports one */
    default Optional<String> uuid() {
        return Optional.empty();
    }

    /** The host CPU, id {@code cpu}. */
    record Host() implements DeviceAddress {
        @Override
        public String id() {
            return "cpu";
        }

        // written out, not bootstrapped through ObjectMethods (see DeviceInfo)
        @Override
        public boolean equals(Object o) {
            return o instanceof Host;
        }

        @Override
        public int hashCode() {
            return 0x5eed;
        }
    }

    /**
     * A GPU as the CUDA driver numbers it, id {@code cuda:N}.
     *
     * @param ordinal the CUDA device ordinal (what {@code cuDeviceGet} takes)
     * @param uuid the device UUID, when read
     */
    record Cuda(int ordinal, Optional<String> uuid) implements DeviceAddress {
        /** Rejects a negative ordinal and normalizes the UUID. */
        public Cuda {
            if (ordinal < 0) {
                throw new IllegalArgumentException("CUDA ordinal " + ordinal + " must be >= 0");
            }
            uuid = normalize(uuid);
        }

        @Override
        public String id() {
            return "cuda:" + ordinal;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Cuda c && ordinal == c.ordinal && uuid.equals(c.uuid);
        }

        @Override
        public int hashCode() {
            return 31 * ordinal + uuid.hashCode();
        }
    }

    /**
     * A GPU as the HIP runtime numbers it, id {@code hip:N}.
     *
     * @param ordinal the HIP device ordinal
     * @param uuid the device UUID, when read
     */
    record Hip(int ordinal, Optional<String> uuid) implements DeviceAddress {
        /** Rejects a negative ordinal and normalizes the UUID. */
        public Hip {
            if (ordinal < 0) {
                throw new IllegalArgumentException("HIP ordinal " + ordinal + " must be >= 0");
            }
            uuid = normalize(uuid);
        }

        @Override
        public String id() {
            return "hip:" + ordinal;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Hip h && ordinal == h.ordinal && uuid.equals(h.uuid);
        }

        @Override
        public int hashCode() {
            return 37 * ordinal + uuid.hashCode();
        }
    }

    /**
     * An OpenCL device, id {@code opencl:P:D}.
     *
     * @param platform the platform's index in {@code clGetPlatformIDs}
     * @param index the device's index in that platform's {@code clGetDeviceIDs}
     * @param uuid the device UUID ({@code cl_khr_device_uuid}), when read
     */
    record OpenCl(int platform, int index, Optional<String> uuid) implements DeviceAddress {
        /** Rejects negative indices and normalizes the UUID. */
        public OpenCl {
            if (platform < 0 || index < 0) {
                throw new IllegalArgumentException("OpenCL platform " + platform + " and index " + index
                        + " must be >= 0");
            }
            uuid = normalize(uuid);
        }

        @Override
        public String id() {
            return "opencl:" + platform + ":" + index;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof OpenCl c && platform == c.platform && index == c.index && uuid.equals(c.uuid);
        }

        @Override
        public int hashCode() {
            return (41 * platform + index) * 31 + uuid.hashCode();
        }
    }

    /**
     * A what-if device of a {@link SimulatedDeviceCatalogue}, id {@code sim:NAME}; no driver reaches it.
     *
     * @param name the name after {@code sim:}
     */
    record Simulated(String name) implements DeviceAddress {
        /** Rejects a blank name. */
        public Simulated {
            Objects.requireNonNull(name, "name");
            if (name.isBlank() || name.contains(" ")) {
                throw new IllegalArgumentException("simulated device name '" + name + "' must be one word");
            }
        }

        @Override
        public String id() {
            return SimulatedDeviceCatalogue.PREFIX + name;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Simulated s && name.equals(s.name);
        }

        @Override
        public int hashCode() {
            return 43 * name.hashCode();
        }
    }

    /**
     * A device of a kind this API does not name (a third-party probe's), reached by its id alone.
     *
     * @param id the probe's device id
     */
    record Other(String id) implements DeviceAddress {
        /** Rejects null. */
        public Other {
            Objects.requireNonNull(id, "id");
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Other x && id.equals(x.id);
        }

        @Override
        public int hashCode() {
            return 47 * id.hashCode();
        }
    }

    /**
     * Reads the address a display id stands for: {@code cpu}, {@code cuda:N}, {@code hip:N},
     * {@code opencl:P:D}, {@code sim:NAME}; anything else is {@link Other}.
     *
     * @param id a device id
     * @return its address (no UUID: ids do not carry one)
     */
    static DeviceAddress parse(String id) {
        Objects.requireNonNull(id, "id");
        String s = id.trim();
        String[] parts = s.split(":", -1);
        try {
            if (s.equals("cpu")) {
                return new Host();
            }
            if (parts.length == 2 && parts[0].equals("cuda")) {
                return new Cuda(Integer.parseInt(parts[1]), Optional.empty());
            }
            if (parts.length == 2 && parts[0].equals("hip")) {
                return new Hip(Integer.parseInt(parts[1]), Optional.empty());
            }
            if (parts.length == 3 && parts[0].equals("opencl")) {
                return new OpenCl(Integer.parseInt(parts[1]), Integer.parseInt(parts[2]), Optional.empty());
            }
            if (s.toLowerCase(Locale.ROOT).startsWith(SimulatedDeviceCatalogue.PREFIX) && parts.length == 2) {
                return new Simulated(parts[1]);
            }
        } catch (IllegalArgumentException e) {
            return new Other(s);
        }
        return new Other(s);
    }

    private static Optional<String> normalize(Optional<String> uuid) {
        Objects.requireNonNull(uuid, "uuid");
        return uuid.map(u -> u.toLowerCase(Locale.ROOT).replace("-", "").replaceFirst("^gpu", ""))
                .filter(u -> !u.isBlank());
    }
}
