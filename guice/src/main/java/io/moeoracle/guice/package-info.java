/**
 * Guice wiring for host applications: {@link io.moeoracle.guice.MoeOracleModule}. Its own module
 * ({@code moe-oracle-guice}), so that core pulls no Guice into hosts that do not use it.
 */
package io.moeoracle.guice;
