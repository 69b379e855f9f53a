/**
 * The generic kernel benchmark: times any provider's forward on random weights and routing and
 * sets every row against the device's roofline (bytes over measured bandwidth, flops over
 * measured peak), measured in the same run. Entry point: {@link io.moeoracle.bench.MoeBenchmark#run}.
 */
package io.moeoracle.bench;
