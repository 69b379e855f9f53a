package io.moeoracle.bench;

/**
 * One token count's timing and its distance from the roofline. Ratios are NaN when no ceilings
 * were measured.
 *
 * @param tokens T
 * @param medianMicros median forward time
 * @param p10Micros 10th percentile
 * @param p90Micros 90th percentile
 * @param expertsTouched mean number of distinct experts a call's routing touched
 * @param bytes mean bytes a call must move (touched experts' weights, scales, biases; activations in and out)
 * @param flops flops a call does: {@code 2 T topK (2 I H + I H)}
 * @param gbPerSecond bytes / median, in GB/s
 * @param gflopsPerSecond flops / median, in GFLOP/s
 * @param floorMicros {@code max(bytes / bandwidth, flops / peak)}
 * @param ratioToFloor median / floor (1 is the roofline)
 * @param fractionOfBandwidth achieved / measured bandwidth
 * @param fractionOfPeak achieved / measured peak flop rate
 * @param mode how inputs were held: {@code host} tensors, {@code device} tensors, or a replayed {@code graph}
 */
public record BenchRow(int tokens, double medianMicros, double p10Micros, double p90Micros, double expertsTouched,
                       double bytes, double flops, double gbPerSecond, double gflopsPerSecond, double floorMicros,
                       double ratioToFloor, double fractionOfBandwidth, double fractionOfPeak, String mode) {
}
