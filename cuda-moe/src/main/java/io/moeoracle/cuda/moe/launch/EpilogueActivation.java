package io.moeoracle.cuda.moe.launch;

import io.moeoracle.api.spec.Activation;

/**
 * The activation as GEMM1's epilogue takes it: an integer code and two floats (the codes are the
 * kernels' ABI: 0 SwiGLU-OAI, 1 SiLU, 2 GELU).
 *
 * @param code the kernel's activation code
 * @param alpha SwiGLU-OAI's sigmoid slope, else 1
 * @param limit SwiGLU-OAI's clamp, else +infinity
 */
public record EpilogueActivation(int code, float alpha, float limit) {
    /** SwiGLU-OAI (gpt-oss): {@code g * sigmoid(alpha * g) * (u + 1)} with the clamps. */
    public static final int SWIGLU_OAI = 0;
    /** {@code silu(gate) * up}. */
    public static final int SILU = 1;
    /** {@code gelu(gate) * up}. */
    public static final int GELU = 2;

    /**
     * @param activation the spec's activation
     * @return its epilogue arguments
     */
    public static EpilogueActivation of(Activation activation) {
        return switch (activation) {
            case Activation.SwigluOai s -> new EpilogueActivation(SWIGLU_OAI, (float) s.alpha(), (float) s.limit());
            case Activation.Silu _ -> new EpilogueActivation(SILU, 1f, Float.POSITIVE_INFINITY);
            case Activation.Gelu _ -> new EpilogueActivation(GELU, 1f, Float.POSITIVE_INFINITY);
        };
    }
}
