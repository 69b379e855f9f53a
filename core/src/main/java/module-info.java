/**
 * moe-oracle core: provider discovery, the one selector, explanations, Guice wiring, the
 * float64 reference MoE and weight loading.
 */
module io.moeoracle.core {
    requires transitive io.moeoracle.api;
    requires org.slf4j;
    // optional: only io.moeoracle.core.guice needs it; hosts that use that package require Guice themselves
    requires static com.google.guice;
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
    exports io.moeoracle.core.bench;

    uses io.moeoracle.api.MoeKernelProvider;
    uses io.moeoracle.api.DeviceProbe;

    provides io.moeoracle.api.DeviceProbe with io.moeoracle.core.device.CpuDeviceProbe;
    provides io.moeoracle.api.MoeKernelProvider with io.moeoracle.core.reference.EmulationProvider;
}
