package io.moeoracle.api;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.error.UnsupportedSpecException;
import io.moeoracle.api.spec.MoeLayerSpec;
import java.util.Objects;

/**
 * A provider's answer to "can you run this layer on this device?": reasons instead of booleans.
 */
public sealed interface SupportVerdict permits SupportVerdict.Supported, SupportVerdict.Unsupported {

    /** @return true for {@link Supported} */
    boolean isSupported();

    /**
     * The layer runs.
     *
     * @param note how it will run, e.g. "MXFP4 decoded in registers, AVX-512 BF16"
     */
    record Supported(String note) implements SupportVerdict {
        /** Rejects null. */
        public Supported {
            Objects.requireNonNull(note, "note");
        }

        @Override
        public boolean isSupported() {
            return true;
        }
    }

    /**
     * The layer does not run here.
     *
     * @param reason what stands in the way, e.g. "MXFP8 activations need FP8 tensor cores (sm_89+); device is sm_80"
     * @param remedy what the user can do, e.g. "use --activation bf16"
     */
    record Unsupported(String reason, String remedy) implements SupportVerdict {
        /** Rejects null or blank reasons. */
        public Unsupported {
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(remedy, "remedy");
            if (reason.isBlank()) {
                throw new IllegalArgumentException("an unsupported verdict needs a reason");
            }
        }

        @Override
        public boolean isSupported() {
            return false;
        }

        /**
         * @param providerId the provider that gave this verdict
         * @param spec the layer judged
         * @param device the device judged
         * @return the exception {@code create} throws for this verdict
         */
        public UnsupportedSpecException toException(String providerId, MoeLayerSpec spec, DeviceInfo device) {
            return UnsupportedSpecException.of(providerId, spec, device, reason, remedy);
        }
    }

    /**
     * @param note how it will run
     * @return a supported verdict
     */
    static SupportVerdict supported(String note) {
        return new Supported(note);
    }

    /**
     * The first line of every {@code create}: throws unless the provider supports the spec on the device.
     *
     * @param provider the provider (its id names it)
     * @param spec the layer
     * @param device the device
     * @throws UnsupportedSpecException with the verdict's reason and remedy
     */
    static void requireSupported(MoeKernelProvider provider, MoeLayerSpec spec, DeviceInfo device) {
        if (provider.isSupported(spec, device) instanceof Unsupported u) {
            throw u.toException(provider.id(), spec, device);
        }
    }

    /**
     * @param reason what stands in the way
     * @param remedy what to do about it
     * @return an unsupported verdict
     */
    static SupportVerdict unsupported(String reason, String remedy) {
        return new Unsupported(reason, remedy);
    }
}
