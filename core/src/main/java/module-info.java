/**
 * moe-oracle core: provider discovery, the one selector, explanations, Guice wiring, the
 * float64 reference MoE and weight loading.
 */
module io.moeoracle.core {
    requires transitive io.moeoracle.api;
    requires org.slf4j;
    // transitive: MoeOracleModule exposes Guice types (Binder, Multibinder) to the hosts that use it
    requires static transitive com.google.guice;
    requires static jakarta.inject;

    exports io.moeoracle.core;
    exports io.moeoracle.core.device;
    exports io.moeoracle.core.discovery;
    exports io.moeoracle.core.select;
    exports io.moeoracle.core.guice;
    exports io.moeoracle.core.reference;
    exports io.moeoracle.core.weights;
    exports io.moeoracle.core.json;

    // Guice reflects on the module's (anonymous TypeLiteral) classes
    opens io.moeoracle.core.guice to com.google.guice;

    uses io.moeoracle.api.MoeKernelProvider;
    uses io.moeoracle.api.DeviceProbe;

    provides io.moeoracle.api.DeviceProbe with io.moeoracle.core.device.CpuDeviceProbe;
    provides io.moeoracle.api.MoeKernelProvider with io.moeoracle.core.reference.EmulationProvider;
}
