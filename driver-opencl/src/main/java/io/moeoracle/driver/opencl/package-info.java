/**
 * A small typed facade over OpenCL (the ICD loader {@code libOpenCL.so.1}) through the FFM API:
 * {@link io.moeoracle.driver.opencl.OpenCl} (availability, platforms, devices),
 * {@link io.moeoracle.driver.opencl.ClContext}, {@link io.moeoracle.driver.opencl.ClQueue},
 * {@link io.moeoracle.driver.opencl.ClProgram} (with the on-disk {@link io.moeoracle.driver.opencl.ProgramCache}),
 * {@link io.moeoracle.driver.opencl.ClKernel}, {@link io.moeoracle.driver.opencl.ClBuffer},
 * {@link io.moeoracle.driver.opencl.ClEvent}; every failed call is an
 * {@link io.moeoracle.driver.opencl.OpenClException} naming the call, its arguments and the error.
 */
package io.moeoracle.driver.opencl;
