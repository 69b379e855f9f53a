/**
 * The FFM layer of the NCCL facade: one class per area of NCCL's API (communicators, collectives),
 * one {@code static final} downcall handle per native function, called with {@code invokeExact}.
 * {@code ncclUniqueId} is a 128-byte struct passed by value ({@link io.moeoracle.driver.nccl.ffi.LibNccl#UNIQUE_ID});
 * {@code ncclComm_t} and {@code cudaStream_t} are pointers; device buffers travel as {@code long}
 * (64-bit, passed in the same registers as a pointer). A missing library or symbol yields handles
 * that throw {@link io.moeoracle.nativeload.ffi.NativeUnavailableError}, so these classes always
 * initialize. Not exported from the module; use the facade.
 */
package io.moeoracle.driver.nccl.ffi;
