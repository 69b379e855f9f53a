/**
 * Weights and layer specs from disk and from seeds: memory-mapped safetensors files and
 * checkpoints, the gpt-oss layer loader, {@code config.json} to {@code MoeLayerSpec}, and random
 * layers for tests and benchmarks.
 */
package io.moeoracle.core.weights;
