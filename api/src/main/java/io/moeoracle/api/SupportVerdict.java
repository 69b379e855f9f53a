package io.moeoracle.api;

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
    }

    /**
     * @param note how it will run
     * @return a supported verdict
     */
    static SupportVerdict supported(String note) {
        return new Supported(note);
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
