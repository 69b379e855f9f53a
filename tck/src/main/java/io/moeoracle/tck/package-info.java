/**
 * The conformance kit: {@link io.moeoracle.tck.MoeKernelCompatibilityKit} and what it needs
 * (spec catalogues, a forked JVM for checks that may crash, a host-memory gauge).
 */
package io.moeoracle.tck;
