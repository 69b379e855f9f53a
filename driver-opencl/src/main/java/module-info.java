/**
 * OpenCL driver facade over FFM: device probing, programs (with a binary cache), buffers, launches,
 * events. Also a {@link io.moeoracle.api.DeviceProbe} with id {@code opencl}.
 */
module io.moeoracle.driver.opencl {
    requires transitive io.moeoracle.api;
    requires io.moeoracle.nativeload;
    requires org.slf4j;

    exports io.moeoracle.driver.opencl;

    provides io.moeoracle.api.DeviceProbe with io.moeoracle.driver.opencl.OpenClDeviceProbe;
}
