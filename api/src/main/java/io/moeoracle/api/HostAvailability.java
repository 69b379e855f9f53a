package io.moeoracle.api;

import java.util.Optional;

/**
 * Whether a provider's driver and kernel image are present on this host, reported beside its
 * verdict (a provider may support a simulated {@code sm_90} while this host has no CUDA driver).
 *
 * @param available true when the provider could run here on a real device
 * @param detail why not, or what was found (e.g. "libcuda 12.8, fatbin sm_80/sm_90a")
 */
public record HostAvailability(boolean available, Optional<String> detail) {

    /** @return available with nothing to add */
    public static HostAvailability yes() {
        return new HostAvailability(true, Optional.empty());
    }

    /**
     * @param detail what was found
     * @return available, with a detail
     */
    public static HostAvailability yes(String detail) {
        return new HostAvailability(true, Optional.of(detail));
    }

    /**
     * @param reason why it cannot run on this host
     * @return unavailable
     */
    public static HostAvailability no(String reason) {
        return new HostAvailability(false, Optional.of(reason));
    }

    @Override
    public String toString() {
        return (available ? "yes" : "no") + detail.map(d -> " (" + d + ")").orElse("");
    }
}
