package io.moeoracle.core.device;

import io.moeoracle.core.MoeOracleException;
import java.util.List;

/** A device id named nothing this host has and no simulated device; the message lists what exists. */
public final class UnknownDeviceException extends MoeOracleException {
    private final String requested;
    private final List<String> known;

    /**
     * @param requested the id asked for
     * @param known the ids that exist
     * @param message the full message
     */
    UnknownDeviceException(String requested, List<String> known, String message) {
        super(message);
        this.requested = requested;
        this.known = List.copyOf(known);
    }

    /** @return the id that was asked for */
    public String requested() {
        return requested;
    }

    /** @return the ids that would have been accepted */
    public List<String> known() {
        return known;
    }
}
