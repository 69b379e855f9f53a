/**
 * A small typed FFM facade over the CUDA driver API (libcuda): devices, primary contexts,
 * modules from fatbin/cubin/PTX, launches, device memory, streams, events and graphs; the
 * {@code cuda} {@link io.moeoracle.api.DeviceProbe}; measured ceilings (copy bandwidth, cuBLAS
 * BF16 matmul). Native calls live in {@code io.moeoracle.driver.cuda.ffi}, which is not exported.
 */
module io.moeoracle.driver.cuda {
    requires transitive io.moeoracle.api;
    requires io.moeoracle.nativeload;
    requires org.slf4j;

    exports io.moeoracle.driver.cuda;

    provides io.moeoracle.api.DeviceProbe with io.moeoracle.driver.cuda.CudaDeviceProbe;
}
