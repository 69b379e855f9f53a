package io.moeoracle.driver.opencl;

import io.moeoracle.driver.opencl.ffi.PlatformCalls;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** One OpenCL platform (a vendor's ICD), as listed by the loader. */
public final class ClPlatform {
    private static final int CL_DEVICE_NOT_FOUND = -1;

    private final int index;
    private final MemorySegment handle;
    private final String name;
    private final String vendor;
    private final String version;

    ClPlatform(int index, MemorySegment handle) {
        this.index = index;
        this.handle = handle;
        this.name = info(Cl.PLATFORM_NAME, "CL_PLATFORM_NAME");
        this.vendor = info(Cl.PLATFORM_VENDOR, "CL_PLATFORM_VENDOR");
        this.version = info(Cl.PLATFORM_VERSION, "CL_PLATFORM_VERSION");
    }

    private String info(int param, String paramName) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment size = arena.allocate(ValueLayout.JAVA_LONG);
            String call = "clGetPlatformInfo(platform=" + index + ", param=" + paramName + ")";
            OpenClException.check(PlatformCalls.getPlatformInfo(handle, param, 0, MemorySegment.NULL, size), call);
            long n = size.get(ValueLayout.JAVA_LONG, 0);
            MemorySegment value = arena.allocate(Math.max(1, n));
            OpenClException.check(PlatformCalls.getPlatformInfo(handle, param, n, value, MemorySegment.NULL), call);
            return value.getString(0).trim();
        }
    }

    /** @return the index in the loader's list */
    public int index() {
        return index;
    }

    /** @return CL_PLATFORM_NAME, e.g. {@code Intel(R) OpenCL Graphics} */
    public String name() {
        return name;
    }

    /** @return CL_PLATFORM_VENDOR */
    public String vendor() {
        return vendor;
    }

    /** @return CL_PLATFORM_VERSION, e.g. {@code OpenCL 3.0 PoCL 3.1} */
    public String version() {
        return version;
    }

    MemorySegment handle() {
        return handle;
    }

    boolean matches(String lowerCaseFilter) {
        return name.toLowerCase(Locale.ROOT).contains(lowerCaseFilter)
                || vendor.toLowerCase(Locale.ROOT).contains(lowerCaseFilter);
    }

    /** @return the platform's devices of every type; empty when it has none */
    public List<ClDevice> devices() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment count = arena.allocate(ValueLayout.JAVA_INT);
            int rc = PlatformCalls.getDeviceIds(handle, Cl.DEVICE_TYPE_ALL, 0, MemorySegment.NULL, count);
            if (rc == CL_DEVICE_NOT_FOUND) {
                return List.of();
            }
            OpenClException.check(rc, "clGetDeviceIDs(platform=" + name + ", type=ALL, num_entries=0)");
            int n = count.get(ValueLayout.JAVA_INT, 0);
            MemorySegment ids = arena.allocate(ValueLayout.ADDRESS, Math.max(1, n));
            OpenClException.check(PlatformCalls.getDeviceIds(handle, Cl.DEVICE_TYPE_ALL, n, ids, count),
                    "clGetDeviceIDs(platform=" + name + ", type=ALL, num_entries=" + n + ")");
            List<ClDevice> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                out.add(new ClDevice(this, i, ids.getAtIndex(ValueLayout.ADDRESS, i)));
            }
            return List.copyOf(out);
        }
    }

    @Override
    public String toString() {
        return "ClPlatform[" + index + ": " + name + ", " + version + "]";
    }
}
