/** Raw FFM bindings to libOpenCL: one class per area, one MethodHandle per C function, codes returned as is. */
package io.moeoracle.driver.opencl.ffi;
