/**
 * Devices: the probes that find real ones on this host ({@link io.moeoracle.core.device.DeviceRegistry},
 * {@link io.moeoracle.core.device.CpuDeviceProbe}) and the simulated ones used for planning and tests
 * ({@link io.moeoracle.core.device.SimulatedDevices}).
 */
package io.moeoracle.core.device;
