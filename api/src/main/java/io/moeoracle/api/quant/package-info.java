/**
 * Pure codecs for the number formats backends meet in {@code prepare}: BF16, OCP MX E8M0 scales,
 * MXFP4 (E2M1) and MXFP8 (E4M3).
 */
package io.moeoracle.api.quant;
