/**
 * The float64 reference MoE ({@link io.moeoracle.reference.ReferenceMoe}), the routing rule
 * ({@link io.moeoracle.reference.TopKRouting}), the error measure backends are judged by
 * ({@link io.moeoracle.reference.RelativeError}) and the {@code emulation} provider.
 */
package io.moeoracle.reference;
