/**
 * Weights and layer specs from disk: memory-mapped safetensors files and checkpoints, the gpt-oss
 * layer loader, {@code config.json} to {@code MoeLayerSpec}. (Seeded random layers are
 * {@code io.moeoracle.reference.RandomMoe}.)
 */
package io.moeoracle.core.weights;
