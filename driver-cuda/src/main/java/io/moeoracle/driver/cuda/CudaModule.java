package io.moeoracle.driver.cuda;

import io.moeoracle.driver.cuda.ffi.CuModule;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A loaded module ({@code CUmodule}) from a fatbin, cubin or PTX image, through
 * {@code cuModuleLoadDataEx} with JIT log buffers: when loading fails the driver's JIT error log
 * is in the exception's message. Closing unloads it; its functions must not be used after.
 */
public final class CudaModule implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CudaModule.class);
    private static final int LOG_BYTES = 16 * 1024;
    // CUjit_option values
    private static final int JIT_INFO_LOG_BUFFER = 3;
    private static final int JIT_INFO_LOG_BUFFER_SIZE_BYTES = 4;
    private static final int JIT_ERROR_LOG_BUFFER = 5;
    private static final int JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;

    private final CudaContext context;
    private final MemorySegment handle;
    private final String description;
    private final Map<String, CudaFunction> functions = new ConcurrentHashMap<>();
    private final AtomicBoolean unloaded = new AtomicBoolean();

    private CudaModule(CudaContext context, MemorySegment handle, String description) {
        this.context = context;
        this.handle = handle;
        this.description = description;
    }

    /** What kind of image a byte array holds, judged by its first bytes. */
    public enum ImageKind {
        /** A fat binary ({@code nvcc -fatbin}), magic {@code 0xBA55ED50}. */
        FATBIN,
        /** An ELF cubin ({@code nvcc -cubin}). */
        CUBIN,
        /** PTX text. */
        PTX;

        /**
         * @param image the bytes
         * @return the kind
         */
        public static ImageKind of(byte[] image) {
            if (image.length >= 4 && (image[0] & 0xFF) == 0x50 && (image[1] & 0xFF) == 0xED
                    && (image[2] & 0xFF) == 0x55 && (image[3] & 0xFF) == 0xBA) {
                return FATBIN;
            }
            if (image.length >= 4 && image[0] == 0x7F && image[1] == 'E' && image[2] == 'L' && image[3] == 'F') {
                return CUBIN;
            }
            return PTX;
        }
    }

    /**
     * Loads an image into the context, which is made current on this thread.
     *
     * @param context the context
     * @param image fatbin, cubin or PTX bytes (PTX need not be NUL-terminated)
     * @return the module
     * @throws CudaException when the driver rejects the image; the message holds the JIT error log
     */
    public static CudaModule load(CudaContext context, byte[] image) {
        if (image.length == 0) {
            throw new IllegalArgumentException("cannot load a CUDA module from an empty image");
        }
        context.ensureCurrent();
        ImageKind kind = ImageKind.of(image);
        String description = kind + " image of " + image.length + " bytes";
        try (Arena arena = Arena.ofConfined()) {
            boolean terminate = kind == ImageKind.PTX && image[image.length - 1] != 0;
            MemorySegment bytes = arena.allocate(image.length + (terminate ? 1 : 0), 64);
            MemorySegment.copy(image, 0, bytes, ValueLayout.JAVA_BYTE, 0, image.length);
            MemorySegment infoLog = arena.allocate(LOG_BYTES);
            MemorySegment errorLog = arena.allocate(LOG_BYTES);
            MemorySegment options = arena.allocate(ValueLayout.JAVA_INT, 4);
            MemorySegment values = arena.allocate(ValueLayout.ADDRESS, 4);
            options.setAtIndex(ValueLayout.JAVA_INT, 0, JIT_INFO_LOG_BUFFER);
            values.setAtIndex(ValueLayout.ADDRESS, 0, infoLog);
            options.setAtIndex(ValueLayout.JAVA_INT, 1, JIT_INFO_LOG_BUFFER_SIZE_BYTES);
            values.setAtIndex(ValueLayout.ADDRESS, 1, MemorySegment.ofAddress(LOG_BYTES));
            options.setAtIndex(ValueLayout.JAVA_INT, 2, JIT_ERROR_LOG_BUFFER);
            values.setAtIndex(ValueLayout.ADDRESS, 2, errorLog);
            options.setAtIndex(ValueLayout.JAVA_INT, 3, JIT_ERROR_LOG_BUFFER_SIZE_BYTES);
            values.setAtIndex(ValueLayout.ADDRESS, 3, MemorySegment.ofAddress(LOG_BYTES));
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            int rc = CuModule.cuModuleLoadDataEx(out, bytes, 4, options, values);
            if (rc != 0) {
                String log = errorLog.getString(0).strip();
                String detail = log.isEmpty() ? "JIT error log: (empty)" : "JIT error log:\n" + log;
                if (rc == CudaException.NO_BINARY_FOR_GPU) {
                    detail += "\nthe image has no code for " + context.device().arch()
                            + " and no PTX the driver could compile: rebuild it with -gencode for this arch";
                }
                throw CudaException.of(rc, "cuModuleLoadDataEx", description + ", numOptions=4", detail);
            }
            String info = infoLog.getString(0).strip();
            if (!info.isEmpty()) {
                LOG.debug("JIT info log for {}: {}", description, info);
            }
            return new CudaModule(context, out.get(ValueLayout.ADDRESS, 0), description);
        }
    }

    /**
     * Loads PTX source text.
     *
     * @param context the context
     * @param ptx the PTX
     * @return the module
     */
    public static CudaModule loadPtx(CudaContext context, String ptx) {
        return load(context, ptx.getBytes(StandardCharsets.UTF_8));
    }

    /** @return the context */
    public CudaContext context() {
        return context;
    }

    /** @return the {@code CUmodule} handle */
    public MemorySegment handle() {
        return handle;
    }

    /**
     * Looks up a kernel ({@code cuModuleGetFunction}); results are cached.
     *
     * @param name the kernel's symbol: the {@code extern "C"} name, or the mangled C++ name
     * @return the function
     * @throws CudaException naming the kernel when the module has none of that name
     */
    public CudaFunction function(String name) {
        checkLoaded();
        return functions.computeIfAbsent(name, this::lookup);
    }

    private CudaFunction lookup(String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cname = arena.allocateFrom(name);
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            int rc = CuModule.cuModuleGetFunction(out, handle, cname);
            if (rc != 0) {
                throw CudaException.of(rc, "cuModuleGetFunction", "name=\"" + name + "\", module=" + description,
                        rc == CudaException.NOT_FOUND
                                ? "no kernel named \"" + name + "\" in the module: declare it extern \"C\" or pass the"
                                        + " mangled name (cuobjdump -symbols lists them)"
                                : "");
            }
            return new CudaFunction(this, name, out.get(ValueLayout.ADDRESS, 0));
        }
    }

    void checkLoaded() {
        if (unloaded.get()) {
            throw new IllegalStateException("the CUDA module (" + description + ") was unloaded");
        }
    }

    /** Unloads the module ({@code cuModuleUnload}); idempotent. */
    @Override
    public void close() {
        if (unloaded.compareAndSet(false, true)) {
            Out.check(CuModule.cuModuleUnload(handle), "cuModuleUnload", () -> "module=" + Out.hex(handle));
        }
    }

    @Override
    public String toString() {
        return "CudaModule[" + description + "]";
    }
}
