package io.moeoracle.driver.opencl;

import io.moeoracle.driver.opencl.ffi.KernelCalls;
import io.moeoracle.driver.opencl.ffi.ProgramCalls;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A program built for one device. Kernels made from it stay valid after it is closed. */
public final class ClProgram implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClProgram.class);

    private final ClContext context;
    private final MemorySegment handle;
    private final boolean fromCache;
    private boolean closed;

    private ClProgram(ClContext context, MemorySegment handle, boolean fromCache) {
        this.context = context;
        this.handle = handle;
        this.fromCache = fromCache;
    }

    /** Builds on a large-stack thread (see {@link LargeStack}). */
    static ClProgram build(ClContext context, String source, String options, ProgramCache cache) {
        return LargeStack.call("opencl-build-" + context.device().id(), () -> buildHere(context, source, options, cache));
    }

    private static ClProgram buildHere(ClContext context, String source, String options, ProgramCache cache) {
        ClDevice device = context.device();
        LOG.debug("building an OpenCL program ({} chars, options \"{}\") for {} {}", source.length(), options,
                device.id(), device.name());
        String key = cache.key(device, source, options);
        Optional<byte[]> cached = cache.load(key);
        if (cached.isPresent()) {
            try {
                ClProgram p = fromBinary(context, cached.get(), options);
                LOG.debug("OpenCL program {} loaded from the binary cache for {}", key, device.id());
                return p;
            } catch (OpenClException e) {
                LOG.debug("cached OpenCL binary {} was rejected ({}); building from source", key, e.getMessage());
            }
        }
        long t0 = System.nanoTime();
        ClProgram p = fromSource(context, source, options);
        LOG.debug("OpenCL program built from source for {} in {} ms", device.id(), (System.nanoTime() - t0) / 1_000_000);
        try {
            cache.store(key, p.binary());
        } catch (OpenClException e) {
            LOG.debug("could not read back the program binary for the cache: {}", e.getMessage());
        }
        return p;
    }

    private static ClProgram fromSource(ClContext context, String source, String options) {
        ClDevice device = context.device();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment text = arena.allocateFrom(source);
            MemorySegment strings = arena.allocate(ValueLayout.ADDRESS);
            strings.set(ValueLayout.ADDRESS, 0, text);
            MemorySegment err = arena.allocate(ValueLayout.JAVA_INT);
            MemorySegment program = ProgramCalls.createWithSource(context.handle(), 1, strings, MemorySegment.NULL, err);
            OpenClException.check(err.get(ValueLayout.JAVA_INT, 0),
                    "clCreateProgramWithSource(device=" + device.id() + ", chars=" + source.length() + ")");
            buildOrThrow(program, device, options, arena);
            return new ClProgram(context, program, false);
        }
    }

    private static ClProgram fromBinary(ClContext context, byte[] binary, String options) {
        ClDevice device = context.device();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment devices = arena.allocate(ValueLayout.ADDRESS);
            devices.set(ValueLayout.ADDRESS, 0, device.handle());
            MemorySegment lengths = arena.allocate(ValueLayout.JAVA_LONG);
            lengths.set(ValueLayout.JAVA_LONG, 0, binary.length);
            MemorySegment bin = arena.allocateFrom(ValueLayout.JAVA_BYTE, binary);
            MemorySegment binaries = arena.allocate(ValueLayout.ADDRESS);
            binaries.set(ValueLayout.ADDRESS, 0, bin);
            MemorySegment status = arena.allocate(ValueLayout.JAVA_INT);
            MemorySegment err = arena.allocate(ValueLayout.JAVA_INT);
            MemorySegment program = ProgramCalls.createWithBinary(context.handle(), 1, devices, lengths, binaries,
                    status, err);
            String call = "clCreateProgramWithBinary(device=" + device.id() + ", bytes=" + binary.length + ")";
            OpenClException.check(err.get(ValueLayout.JAVA_INT, 0), call);
            OpenClException.check(status.get(ValueLayout.JAVA_INT, 0), call + " binary status");
            buildOrThrow(program, device, options, arena);
            return new ClProgram(context, program, true);
        }
    }

    private static void buildOrThrow(MemorySegment program, ClDevice device, String options, Arena arena) {
        MemorySegment devices = arena.allocate(ValueLayout.ADDRESS);
        devices.set(ValueLayout.ADDRESS, 0, device.handle());
        int rc = ProgramCalls.build(program, 1, devices, arena.allocateFrom(options));
        if (rc != 0) {
            String log = buildLog(program, device);
            ProgramCalls.release(program);
            throw new ProgramBuildException("clBuildProgram(device=" + device.id() + " " + device.name()
                    + ", options=\"" + options + "\")", rc, log);
        }
    }

    private static String buildLog(MemorySegment program, ClDevice device) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment size = arena.allocate(ValueLayout.JAVA_LONG);
            int rc = ProgramCalls.getBuildInfo(program, device.handle(), Cl.PROGRAM_BUILD_LOG, 0, MemorySegment.NULL, size);
            if (rc != 0) {
                return "(no build log: clGetProgramBuildInfo returned " + ClErrorNames.name(rc) + ")";
            }
            long n = size.get(ValueLayout.JAVA_LONG, 0);
            MemorySegment log = arena.allocate(Math.max(1, n));
            rc = ProgramCalls.getBuildInfo(program, device.handle(), Cl.PROGRAM_BUILD_LOG, n, log, MemorySegment.NULL);
            return rc != 0 ? "(no build log: " + ClErrorNames.name(rc) + ")" : log.getString(0).strip();
        }
    }

    /** @return whether this program came from the on-disk binary cache */
    public boolean fromCache() {
        return fromCache;
    }

    /** @return the build log of the (successful) build, often warnings or empty */
    public String buildLog() {
        return buildLog(handle(), context.device());
    }

    private MemorySegment handle() {
        if (closed) {
            throw new IllegalStateException("the OpenCL program is closed");
        }
        return handle;
    }

    /** @return the device binary (CL_PROGRAM_BINARIES) */
    public byte[] binary() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sizes = arena.allocate(ValueLayout.JAVA_LONG);
            OpenClException.check(ProgramCalls.getInfo(handle(), Cl.PROGRAM_BINARY_SIZES, 8, sizes, MemorySegment.NULL),
                    "clGetProgramInfo(CL_PROGRAM_BINARY_SIZES)");
            long n = sizes.get(ValueLayout.JAVA_LONG, 0);
            if (n <= 0) {
                return new byte[0];
            }
            MemorySegment bin = arena.allocate(n);
            MemorySegment ptrs = arena.allocate(ValueLayout.ADDRESS);
            ptrs.set(ValueLayout.ADDRESS, 0, bin);
            OpenClException.check(ProgramCalls.getInfo(handle(), Cl.PROGRAM_BINARIES, ValueLayout.ADDRESS.byteSize(),
                    ptrs, MemorySegment.NULL), "clGetProgramInfo(CL_PROGRAM_BINARIES, size=" + n + ")");
            return bin.toArray(ValueLayout.JAVA_BYTE);
        }
    }

    /**
     * @param name the kernel function's name
     * @return the kernel
     */
    public ClKernel kernel(String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = arena.allocate(ValueLayout.JAVA_INT);
            MemorySegment k = KernelCalls.create(handle(), arena.allocateFrom(name), err);
            OpenClException.check(err.get(ValueLayout.JAVA_INT, 0), "clCreateKernel(name=" + name + ")");
            return new ClKernel(name, k, context.device());
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            OpenClException.check(ProgramCalls.release(handle), "clReleaseProgram");
        }
    }
}
