/**
 * Measured selection: {@link io.moeoracle.measure.MeasuredSelectionPolicy} orders candidates by
 * their times on this device ({@link io.moeoracle.measure.Measurement}, cached per
 * {@link io.moeoracle.measure.MeasureKey}), and {@link io.moeoracle.measure.BucketKernel} runs each
 * forward on its token-count bucket's winner.
 */
package io.moeoracle.measure;
