/**
 * The exceptions a backend throws at the SPI boundary: {@link io.moeoracle.api.error.MoeKernelException}
 * and its four kinds (unsupported spec, bad input, kernel state, native failure).
 */
package io.moeoracle.api.error;
