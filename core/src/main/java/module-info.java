/**
 * moe-oracle core: provider discovery, the one selector, explanations (the data), devices and
 * weight loading (safetensors, {@code config.json}). Requires only the api and SLF4J: the Guice
 * wiring ({@code io.moeoracle.guice}), the reference MoE with the {@code emulation} provider
 * ({@code io.moeoracle.reference}) and the benchmark harness ({@code io.moeoracle.bench}) are
 * modules of their own. Every exported package is API; {@code io.moeoracle.core.internal..}
 * is not exported.
 */
module io.moeoracle.core {
    requires transitive io.moeoracle.api;
    requires org.slf4j;

    exports io.moeoracle.core;
    exports io.moeoracle.core.device;
    exports io.moeoracle.core.discovery;
    exports io.moeoracle.core.select;
    exports io.moeoracle.core.weights;

    uses io.moeoracle.api.MoeKernelProvider;
    uses io.moeoracle.api.DeviceProbe;
    uses io.moeoracle.api.device.SimulatedDeviceCatalogue;
    uses io.moeoracle.core.select.SelectionPolicyFactory;

    provides io.moeoracle.api.DeviceProbe with io.moeoracle.core.device.CpuDeviceProbe;
}
