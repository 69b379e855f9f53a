/**
 * The float64 reference MoE ({@link io.moeoracle.core.reference.ReferenceMoe}), the routing rule
 * ({@link io.moeoracle.core.reference.TopKRouting}), the error measure backends are judged by
 * ({@link io.moeoracle.core.reference.RelativeError}) and the {@code emulation} provider.
 */
package io.moeoracle.core.reference;
