/**
 * The float64 reference MoE every backend is judged against, the routing rule, the error measure,
 * seeded random layers, and the {@code emulation} provider (the reference behind the SPI: any
 * spec, on the host CPU, slowly). Depends on the api only, so backends can test against it
 * without seeing core.
 */
module io.moeoracle.reference {
    requires transitive io.moeoracle.api;

    exports io.moeoracle.reference;

    provides io.moeoracle.api.MoeKernelProvider with io.moeoracle.reference.EmulationProvider;
}
