package io.moeoracle.api.error;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.MoeLayerSpec;
import java.io.Serial;
import java.util.Objects;

/**
 * A provider was asked to {@code create} a kernel for a layer or device it does not support.
 * Thrown with the same reason and remedy its {@code isSupported} verdict gives (see
 * {@code SupportVerdict.requireSupported}); a provider never throws it from {@code isSupported}
 * itself.
 */
public final class UnsupportedSpecException extends MoeKernelException {
    @Serial
    private static final long serialVersionUID = 1L;

    private final String providerId;
    private final String reason;
    private final String remedy;

    /**
     * @param providerId the provider that refused
     * @param what the layer and device, as one phrase (e.g. {@code "E=32 top4 ... on cuda:0 (sm_90, ...)"})
     * @param reason what stands in the way
     * @param remedy what the user can do
     */
    public UnsupportedSpecException(String providerId, String what, String reason, String remedy) {
        super(providerId + " cannot run " + what + ": " + reason + (remedy.isBlank() ? "" : " (" + remedy + ")"),
                null);
        this.providerId = Objects.requireNonNull(providerId, "providerId");
        this.reason = Objects.requireNonNull(reason, "reason");
        this.remedy = Objects.requireNonNull(remedy, "remedy");
    }

    /**
     * The exception for an unsupported verdict ({@code SupportVerdict.Unsupported#toException}).
     *
     * @param providerId the provider
     * @param spec the layer
     * @param device the device
     * @param reason the verdict's reason
     * @param remedy the verdict's remedy
     * @return the exception (to throw)
     */
    public static UnsupportedSpecException of(String providerId, MoeLayerSpec spec, DeviceInfo device,
                                              String reason, String remedy) {
        return new UnsupportedSpecException(providerId, spec.describe() + " on " + device.describe(), reason, remedy);
    }

    /** @return the id of the provider that refused */
    public String providerId() {
        return providerId;
    }

    /** @return what stands in the way */
    public String reason() {
        return reason;
    }

    /** @return what the user can do */
    public String remedy() {
        return remedy;
    }
}
