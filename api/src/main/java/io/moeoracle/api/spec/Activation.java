package io.moeoracle.api.spec;

import java.util.Locale;

/**
 * The gated activation applied between the two expert GEMMs. The first GEMM produces gate and
 * up rows interleaved (even row gate, odd row up); every variant combines one pair into one value.
 */
public sealed interface Activation permits Activation.Silu, Activation.SwigluOai, Activation.Gelu {

    /** {@code silu(gate) * up}. */
    record Silu() implements Activation {
        @Override
        public String toString() {
            return "silu";
        }

        // written out, not bootstrapped through ObjectMethods on first use (see MoeLayerSpec)
        @Override
        public boolean equals(Object o) {
            return o instanceof Silu;
        }

        @Override
        public int hashCode() {
            return 0x51;
        }
    }

    /**
     * The gpt-oss variant: {@code g = min(gate, limit)}, {@code u = clamp(up, -limit, limit)},
     * {@code out = g * sigmoid(alpha * g) * (u + 1)}.
     *
     * @param alpha the sigmoid slope (1.702 in gpt-oss)
     * @param limit the clamp limit (7.0 in gpt-oss)
     */
    record SwigluOai(double alpha, double limit) implements Activation {
        /** Validates alpha and limit. */
        public SwigluOai {
            if (!(alpha > 0) || !Double.isFinite(alpha)) {
                throw new InvalidSpecException("alpha", "alpha " + alpha + " must be a finite positive number");
            }
            if (!(limit > 0)) {
                throw new InvalidSpecException("limit", "limit " + limit + " must be positive (use Infinity for none)");
            }
        }

        @Override
        public String toString() {
            return "swiglu-oai(alpha=" + alpha + ", limit=" + limit + ")";
        }

        // the record's semantics (Double.compare), written out rather than bootstrapped through ObjectMethods
        @Override
        public boolean equals(Object o) {
            return o instanceof SwigluOai s && Double.compare(alpha, s.alpha) == 0 && Double.compare(limit, s.limit) == 0;
        }

        @Override
        public int hashCode() {
            return 31 * Double.hashCode(alpha) + Double.hashCode(limit);
        }
    }

    /** {@code gelu(gate) * up} with the tanh approximation. */
    record Gelu() implements Activation {
        @Override
        public String toString() {
            return "gelu";
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Gelu;
        }

        @Override
        public int hashCode() {
            return 0x6e;
        }
    }

    /** SiLU-GLU. */
    Activation SILU = new Silu();
    /** GELU-GLU. */
    Activation GELU = new Gelu();
    /** SwiGLU with gpt-oss's alpha 1.702 and limit 7.0. */
    Activation SWIGLU_OAI = new SwigluOai(1.702, 7.0);

    /**
     * @param text {@code silu}, {@code gelu} or {@code swiglu-oai}
     * @return the activation with default parameters
     */
    static Activation parse(String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT).replace('_', '-')) {
            case "silu", "swiglu" -> SILU;
            case "gelu" -> GELU;
            case "swiglu-oai", "swigluoai" -> SWIGLU_OAI;
            default -> throw new InvalidSpecException("activation", "activation '" + text
                    + "' is unknown; use one of silu, gelu, swiglu-oai");
        };
    }
}
