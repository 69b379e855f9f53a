package io.moeoracle.api.tensor;

import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.WeightFormat;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

/**
 * The canonical (gpt-oss checkpoint) weights of one layer's local experts, as {@code prepare}
 * receives them. With {@code El = spec.localExperts()}:
 * <ul>
 *   <li>MXFP4: {@code w13} U8 {@code [El, 2I, H/2]} (two E2M1 values a byte, low nibble first;
 *       the 4-D checkpoint view {@code [El, 2I, H/32, 16]} is accepted), {@code w13Scales} U8
 *       {@code [El, 2I, H/32]} (E8M0), {@code w2} U8 {@code [El, H, I/2]}, {@code w2Scales}
 *       {@code [El, H, I/32]};</li>
 *   <li>BF16: {@code w13} BF16 {@code [El, 2I, H]}, {@code w2} BF16 {@code [El, H, I]}, no scales;</li>
 *   <li>biases (when {@code spec.hasBias()}) BF16 or F32 {@code [El, 2I]} and {@code [El, H]}.</li>
 * </ul>
 * Rows of {@code w13} interleave gate and up: even rows gate, odd rows up.
 *
 * @param w13 first GEMM weights
 * @param w13Scales first GEMM scales, when quantized
 * @param w13Bias first GEMM bias, when the spec has biases
 * @param w2 second GEMM weights
 * @param w2Scales second GEMM scales, when quantized
 * @param w2Bias second GEMM bias, when the spec has biases
 */
public record MoeWeights(HostTensor w13, Optional<HostTensor> w13Scales, Optional<HostTensor> w13Bias,
                         HostTensor w2, Optional<HostTensor> w2Scales, Optional<HostTensor> w2Bias) {

    /** Rejects nulls and folds the 4-D block view into the 3-D one. */
    public MoeWeights {
        Objects.requireNonNull(w13, "w13");
        Objects.requireNonNull(w13Scales, "w13Scales");
        Objects.requireNonNull(w13Bias, "w13Bias");
        Objects.requireNonNull(w2, "w2");
        Objects.requireNonNull(w2Scales, "w2Scales");
        Objects.requireNonNull(w2Bias, "w2Bias");
        w13 = fold4d(w13);
        w2 = fold4d(w2);
    }

    private static HostTensor fold4d(HostTensor t) {
        if (t.rank() == 4 && t.dtype() == DType.U8 && t.dim(3) == 16) {
            return t.reshape(t.dim(0), t.dim(1), t.dim(2) * 16);
        }
        return t;
    }

    /**
     * Checks every tensor against the spec, then (see {@link #checkBacking()}) that memory-mapped
     * tensors are still backed by their file. Every backend's {@code prepare} calls this before its
     * native code reads the weights.
     *
     * @param spec the layer these weights are for
     * @throws BadInputException naming the tensor, its shape or dtype, and what was expected
     * @throws RuntimeException from a tensor's {@link HostTensor.Backing}, naming the file that shrank
     */
    public void validate(MoeLayerSpec spec) {
        validateShapes(spec);
        checkBacking();
    }

    /**
     * Checks that no memory-mapped tensor lost its bytes (a file truncated after it was opened):
     * native code reading such a mapping would kill the JVM with SIGBUS, so this fails in Java first.
     *
     * @throws RuntimeException from a tensor's {@link HostTensor.Backing}, naming the file
     */
    public void checkBacking() {
        w13.checkBacking();
        w13Scales.ifPresent(HostTensor::checkBacking);
        w13Bias.ifPresent(HostTensor::checkBacking);
        w2.checkBacking();
        w2Scales.ifPresent(HostTensor::checkBacking);
        w2Bias.ifPresent(HostTensor::checkBacking);
    }

    private void validateShapes(MoeLayerSpec spec) {
        long e = spec.localExperts();
        long h = spec.hiddenSize();
        long i = spec.intermediateSize();
        WeightFormat fmt = spec.quant().weights();
        switch (fmt.kind()) {
            case MXFP4 -> {
                expect("w13", w13, DType.U8, e, 2 * i, h / 2);
                expect("w2", w2, DType.U8, e, h, i / 2);
                expect("w13Scales", required("w13Scales", w13Scales, fmt), DType.U8, e, 2 * i, h / 32);
                expect("w2Scales", required("w2Scales", w2Scales, fmt), DType.U8, e, h, i / 32);
            }
            case BF16 -> {
                expect("w13", w13, DType.BF16, e, 2 * i, h);
                expect("w2", w2, DType.BF16, e, h, i);
                if (w13Scales.isPresent() || w2Scales.isPresent()) {
                    throw new BadInputException("BF16 weights take no scales, but scales were given");
                }
            }
            default -> throw new BadInputException("no canonical layout is defined yet for "
                    + fmt + " weights; supported: mxfp4, bf16");
        }
        if (spec.hasBias()) {
            expectBias("w13Bias", required("w13Bias", w13Bias, "the spec has biases"), e, 2 * i);
            expectBias("w2Bias", required("w2Bias", w2Bias, "the spec has biases"), e, h);
        } else if (w13Bias.isPresent() || w2Bias.isPresent()) {
            throw new BadInputException("biases were given but the spec says hasBias=false");
        }
    }

    private static HostTensor required(String name, Optional<HostTensor> t, Object why) {
        return t.orElseThrow(() -> new BadInputException(name + " is missing; it is required for " + why));
    }

    private static void expect(String name, HostTensor t, DType dtype, long... shape) {
        if (t.dtype() != dtype || !Arrays.equals(t.shape(), shape)) {
            throw new BadInputException(name + " is " + t.dtype() + " " + t.shapeString()
                    + " but the spec needs " + dtype + " " + Arrays.toString(shape));
        }
    }

    private static void expectBias(String name, HostTensor t, long... shape) {
        if ((t.dtype() != DType.BF16 && t.dtype() != DType.F32) || !Arrays.equals(t.shape(), shape)) {
            throw new BadInputException(name + " is " + t.dtype() + " " + t.shapeString()
                    + " but the spec needs BF16 or F32 " + Arrays.toString(shape));
        }
    }
}
