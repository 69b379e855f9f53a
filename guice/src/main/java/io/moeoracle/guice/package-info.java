/**
 * Guice wiring for host applications: {@link io.moeoracle.core.guice.MoeOracleModule}. Guice is an
 * optional dependency of core; only this package needs it.
 */
package io.moeoracle.core.guice;
