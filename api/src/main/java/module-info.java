/**
 * The moe-oracle SPI and value types: layer specs, devices, support verdicts, tensors and the
 * small pure codecs backends need in {@code prepare}. Depends on the JDK only.
 */
module io.moeoracle.api {
    exports io.moeoracle.api;
    exports io.moeoracle.api.spec;
    exports io.moeoracle.api.device;
    exports io.moeoracle.api.tensor;
    exports io.moeoracle.api.quant;
    exports io.moeoracle.api.error;

    uses io.moeoracle.api.MoeKernelProvider;
    uses io.moeoracle.api.DeviceProbe;
    uses io.moeoracle.api.device.SimulatedDeviceCatalogue;
}
