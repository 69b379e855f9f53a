/**
 * A small typed FFM facade over the HIP runtime (libamdhip64): devices with their
 * {@code gcnArchName}, modules from code objects ({@code hipModuleLoadData}), launches, device
 * memory, streams, events and graphs; the {@code hip} {@link io.moeoracle.api.DeviceProbe}. Native
 * calls live in {@code io.moeoracle.driver.hip.ffi}, which is not exported.
 */
module io.moeoracle.driver.hip {
    requires transitive io.moeoracle.api;
    requires io.moeoracle.nativeload;
    requires org.slf4j;

    exports io.moeoracle.driver.hip;

    provides io.moeoracle.api.DeviceProbe with io.moeoracle.driver.hip.HipDeviceProbe;
}
