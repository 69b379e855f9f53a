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

    // Guice reflects on the module's (anonymous TypeLiteral) classes
    opens io.moeoracle.core.guice to com.google.guice;
    exports io.moeoracle.core.reference;
    exports io.moeoracle.core.weights;

    uses io.moeoracle.api.MoeKernelProvider;
    uses io.moeoracle.api.DeviceProbe;

    provides io.moeoracle.api.DeviceProbe with io.moeoracle.core.device.CpuDeviceProbe;
}
