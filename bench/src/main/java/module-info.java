/**
 * The side-by-side kernel harness: times any provider's forward on seeded random layers and sets
 * each row against the device's measured roofline; results as JSON under {@code bench/results}.
 */
module io.moeoracle.bench {
    requires transitive io.moeoracle.api;
    requires io.moeoracle.reference;
    requires org.slf4j;

    exports io.moeoracle.bench;
    exports io.moeoracle.bench.json;
}
