/**
 * Guice wiring for host applications that use Guice: {@link io.moeoracle.guice.MoeOracleModule}
 * binds the selector, its registry, policy and settings. Kept out of core so that hosts without
 * Guice pull none of it.
 */
module io.moeoracle.guice {
    requires transitive io.moeoracle.core;
    requires transitive com.google.guice;

    exports io.moeoracle.guice;
    // Guice reflects on the module's (anonymous TypeLiteral) classes
    opens io.moeoracle.guice to com.google.guice;
}
