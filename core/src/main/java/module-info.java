/**
 * moe-oracle core: provider discovery, the one selector, explanations, Guice wiring, the
 * float64 reference MoE and weight loading.
 */
module io.moeoracle.core {
    requires transitive io.moeoracle.api;
    requires org.slf4j;
    requires static com.google.guice;
    requires static jakarta.inject;

    exports io.moeoracle.core;
    exports io.moeoracle.core.reference;
    exports io.moeoracle.core.weights;

    uses io.moeoracle.api.MoeKernelProvider;
    uses io.moeoracle.api.DeviceProbe;
}
