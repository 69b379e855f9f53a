/**
 * A small typed facade over the CUDA driver API. Start at {@link io.moeoracle.driver.cuda.CudaDriver}:
 * {@code CudaDriver.isAvailable()} / {@code unavailabilityCause()} say whether CUDA can be used here
 * (decided once, by calling {@code cuInit}); {@code CudaDriver.load().device(0).retainPrimaryContext()}
 * gives a {@link io.moeoracle.driver.cuda.CudaContext}, from which come buffers, streams, events and
 * modules. Every failed driver call throws {@link io.moeoracle.driver.cuda.CudaException} naming the
 * call, its arguments and the driver's error name and text. The native calls themselves live in
 * {@code io.moeoracle.driver.cuda.ffi}.
 */
package io.moeoracle.driver.cuda;
