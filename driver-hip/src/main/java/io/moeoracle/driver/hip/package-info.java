/**
 * A small typed facade over the HIP runtime. Start at {@link io.moeoracle.driver.hip.HipRuntime}:
 * {@code HipRuntime.isAvailable()} / {@code unavailabilityCause()} say whether HIP can be used here
 * (decided once, by calling {@code hipInit}); {@code HipRuntime.load().device(0)} gives a
 * {@link io.moeoracle.driver.hip.HipDevice}, from which come buffers, streams, events and modules.
 * Every failed call throws {@link io.moeoracle.driver.hip.HipException} naming the call, its
 * arguments and the runtime's error name and text.
 */
package io.moeoracle.driver.hip;
