/**
 * The FFM layer over libamdhip64: one {@code static final} downcall handle per HIP function, called
 * with {@code invokeExact}. A missing library or symbol yields handles that throw
 * {@link io.moeoracle.nativeload.ffi.NativeUnavailableError}, so these classes always initialize.
 * Not exported from the module; use the facade.
 */
package io.moeoracle.driver.hip.ffi;
