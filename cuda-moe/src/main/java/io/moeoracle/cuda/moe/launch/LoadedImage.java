package io.moeoracle.cuda.moe.launch;

import io.moeoracle.driver.cuda.CudaException;
import io.moeoracle.driver.cuda.CudaFunction;
import io.moeoracle.driver.cuda.CudaModule;
import io.moeoracle.driver.cuda.CudaStream;
import io.moeoracle.driver.cuda.KernelArgs;
import io.moeoracle.driver.cuda.LaunchConfig;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A kernel's loaded image: the module, the functions looked up once when the kernel is created, and their
 * launches on the kernel's stream. Callers hold the kernel's lock.
 */
public final class LoadedImage implements AutoCloseable {
    private final CudaModule module;
    private final CudaStream stream;
    private final Map<String, CudaFunction> functions = new HashMap<>();

    /**
     * @param module the loaded image (closed by {@link #close})
     * @param stream the kernel's stream
     */
    public LoadedImage(CudaModule module, CudaStream stream) {
        this.module = Objects.requireNonNull(module, "module");
        this.stream = Objects.requireNonNull(stream, "stream");
    }

    /**
     * Looks up and keeps functions the image must have.
     *
     * @param names the functions
     * @throws CudaException naming the function the image lacks
     */
    public void load(Collection<String> names) {
        for (String name : names) {
            keep(module.function(name));
        }
    }

    /**
     * @param name a function the image must have (a {@code _config} probe, say); not kept
     * @return the function
     * @throws CudaException naming the function when the image lacks it
     */
    public CudaFunction function(String name) {
        return module.function(name);
    }

    /**
     * @param name a function the image may lack (a tile size a build left out); not kept
     * @return the function, or empty when the image has none of that name
     * @throws CudaException for any failure other than a missing name
     */
    public Optional<CudaFunction> find(String name) {
        try {
            return Optional.of(module.function(name));
        } catch (CudaException e) {
            if (e.code() == CudaException.NOT_FOUND) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /** @param function a function of this image that {@link #launch} may launch by name */
    public void keep(CudaFunction function) {
        functions.put(function.name(), function);
    }

    /**
     * @param name a kept function
     * @param config grid, block and shared memory
     * @param args the packed arguments
     * @throws IllegalStateException when the function was not kept (a bug of the backend, not of the input)
     */
    public void launch(String name, LaunchConfig config, KernelArgs args) {
        CudaFunction f = functions.get(name);
        if (f == null) {
            throw new IllegalStateException("kernel " + name + " was not loaded from the fatbin");
        }
        f.launch(config, stream, args);
    }

    /** Unloads the module. */
    @Override
    public void close() {
        module.close();
    }
}
