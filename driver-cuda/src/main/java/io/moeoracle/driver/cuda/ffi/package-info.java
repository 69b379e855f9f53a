/**
 * The FFM layer: one class per area of the CUDA driver API (and cuBLAS), one {@code static final}
 * downcall handle per native function, called with {@code invokeExact}; symbols are the versioned
 * names the CUDA headers map to ({@code cuMemAlloc_v2}, {@code cuStreamBeginCapture_v2}, ...).
 * A missing library or symbol yields handles that throw {@link io.moeoracle.nativeload.ffi.NativeUnavailableError},
 * so these classes always initialize. Not exported from the module; use the facade.
 */
package io.moeoracle.driver.cuda.ffi;
