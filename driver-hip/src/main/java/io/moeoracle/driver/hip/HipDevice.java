package io.moeoracle.driver.hip;

import io.moeoracle.api.device.DeviceAddress;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.driver.hip.ffi.HipCalls;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HIP device and its properties. HIP has no explicit contexts: every operation here first makes
 * this device current on the calling thread ({@code hipSetDevice}), which is cheap.
 */
public final class HipDevice {
    private static final Logger LOG = LoggerFactory.getLogger(HipDevice.class);

    private final int ordinal;
    private final String name;
    private final String gcnArchName;
    private final String processor;
    private final long memoryBytes;
    private final OptionalInt computeUnits;
    private final Optional<String> uuid;

    private HipDevice(int ordinal, String name, String gcnArchName, long memoryBytes, OptionalInt computeUnits,
                      Optional<String> uuid) {
        this.uuid = uuid;
        this.ordinal = ordinal;
        this.name = name;
        this.gcnArchName = gcnArchName;
        this.processor = HipArch.processor(gcnArchName);
        this.memoryBytes = memoryBytes;
        this.computeUnits = computeUnits;
    }

    static HipDevice open(int ordinal) {
        HipException.check(HipCalls.hipSetDevice(ordinal), "hipSetDevice", "device=" + ordinal);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mem = arena.allocate(ValueLayout.JAVA_LONG);
            HipException.check(HipCalls.hipDeviceTotalMem(mem, ordinal), "hipDeviceTotalMem", "device=" + ordinal);
            long total = mem.get(ValueLayout.JAVA_LONG, 0);
            MemorySegment props = arena.allocate(HipDeviceProps.BUFFER_BYTES, 16);
            HipException.check(HipCalls.hipGetDeviceProperties(props, ordinal), "hipGetDeviceProperties",
                    "device=" + ordinal);
            String arch = HipDeviceProps.gcnArchName(props).orElseThrow(() -> new IllegalStateException("hipGetDeviceProperties(device="
                    + ordinal + ") returned no gfx architecture name; this HIP runtime's hipDeviceProp_t is not one"
                    + " this facade knows (report the ROCm version)"));
            OptionalInt cus = HipDeviceProps.computeUnits(props, total);
            if (cus.isEmpty()) {
                LOG.debug("hip:{}: compute-unit count not read (hipDeviceProp_t layout not the R0600 one)", ordinal);
            }
            return new HipDevice(ordinal, HipDeviceProps.name(props), arch, total, cus,
                    HipDeviceProps.uuid(props, total));
        }
    }

    /** @return the ordinal */
    public int ordinal() {
        return ordinal;
    }

    /** @return the runtime's name, e.g. {@code AMD Instinct MI300X} */
    public String name() {
        return name;
    }

    /** @return the full architecture name, e.g. {@code gfx942:sramecc+:xnack-} */
    public String gcnArchName() {
        return gcnArchName;
    }

    /** @return the processor, e.g. {@code gfx942} */
    public String processor() {
        return processor;
    }

    /** @return device memory in bytes */
    public long memoryBytes() {
        return memoryBytes;
    }

    /** @return compute units, when the runtime's property layout was recognized */
    public OptionalInt computeUnits() {
        return computeUnits;
    }

    /** @return the device UUID as hex, when the runtime's property layout was recognized and it reported one */
    public Optional<String> uuid() {
        return uuid;
    }

    /** @return the typed address of this device: {@code hip:N} with its UUID when read */
    public DeviceAddress.Hip address() {
        return new DeviceAddress.Hip(ordinal, uuid);
    }

    /**
     * @return this device as the API describes devices: id {@code hip:N}, arch {@code gfxNNN}, its
     *     typed HIP address (with the UUID, so the device registry can link the same GPU seen
     *     through OpenCL)
     */
    public DeviceInfo toDeviceInfo() {
        DeviceAddress.Hip address = address();
        return new DeviceInfo(address.id(), Vendor.AMD, processor, name.isEmpty() ? gcnArchName : name,
                computeUnits.orElse(0), memoryBytes, HipArch.features(processor), false, address, List.of(),
                java.util.Optional.of(HipRuntime.load().versionDescription()));
    }

    /** Makes this device current on the calling thread. */
    public void makeCurrent() {
        HipException.check(HipCalls.hipSetDevice(ordinal), "hipSetDevice", "device=" + ordinal);
    }

    /** Waits for all work on this device. */
    public void synchronize() {
        makeCurrent();
        HipException.check(HipCalls.hipDeviceSynchronize(), "hipDeviceSynchronize", "device=" + ordinal);
    }

    /**
     * @param bytes size, at least 1
     * @return device memory (uninitialized)
     */
    public HipBuffer allocate(long bytes) {
        makeCurrent();
        return HipBuffer.allocate(this, bytes);
    }

    /** @return a new stream on this device */
    public HipStream createStream() {
        makeCurrent();
        return HipStream.create(this);
    }

    /** @return a new event on this device */
    public HipEvent createEvent() {
        makeCurrent();
        return HipEvent.create(this);
    }

    /**
     * @param codeObject an AMDGPU ELF code object for this device's processor
     * @return the loaded module
     */
    public HipModule loadModule(byte[] codeObject) {
        makeCurrent();
        return HipModule.load(this, codeObject);
    }

    @Override
    public String toString() {
        return "hip:" + ordinal + " (" + gcnArchName + ", " + name + ")";
    }
}
