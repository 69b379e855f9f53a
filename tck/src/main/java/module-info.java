/**
 * The conformance kit for moe-oracle backends: extend
 * {@link io.moeoracle.tck.MoeKernelCompatibilityKit} in a test, supply the provider, a real device
 * and the tolerance per scheme, and run it with JUnit 5.
 */
module io.moeoracle.tck {
    requires transitive io.moeoracle.api;
    requires transitive io.moeoracle.reference;
    requires transitive org.junit.jupiter.api;
    requires java.management;

    exports io.moeoracle.tck;

    opens io.moeoracle.tck to org.junit.platform.commons;
}
