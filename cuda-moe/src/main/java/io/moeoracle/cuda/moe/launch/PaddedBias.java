package io.moeoracle.cuda.moe.launch;

import io.moeoracle.api.quant.Bf16;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.driver.cuda.CudaContext;
import io.moeoracle.driver.cuda.DeviceBuffer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A GEMM's bias {@code [E_local, N]} (BF16 or F32) as the padded epilogues read it: FP32
 * {@code [E_local, N_pad]}, zero past {@code N}.
 */
public final class PaddedBias {
    private PaddedBias() {
    }

    /**
     * @param arena where the widened bias is allocated (zeroed, 16-byte aligned)
     * @param bias the canonical bias, {@code experts * n} values
     * @param experts the local experts
     * @param n the real row length
     * @param nPad the padded row length
     * @return FP32 {@code [experts][nPad]}
     */
    public static MemorySegment widen(Arena arena, HostTensor bias, int experts, int n, int nPad) {
        if (nPad < n || bias.data().byteSize() < (long) experts * n * bias.dtype().byteSize()) {
            throw new IllegalArgumentException("bias of " + bias.data().byteSize() + " bytes (" + bias.dtype()
                    + ") cannot fill [" + experts + ", " + n + "] padded to " + nPad);
        }
        MemorySegment f = arena.allocate((long) experts * nPad * 4, 16);
        for (int e = 0; e < experts; e++) {
            for (int c = 0; c < n; c++) {
                long at = (long) e * n + c;
                float v = bias.dtype() == DType.F32 ? bias.data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, at)
                        : Bf16.toFloat(bias.data().getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, at));
                f.setAtIndex(ValueLayout.JAVA_FLOAT, (long) e * nPad + c, v);
            }
        }
        return f;
    }

    /**
     * @param context the kernel's context (current)
     * @param bias the canonical bias
     * @param experts the local experts
     * @param n the real row length
     * @param nPad the padded row length
     * @return a new device buffer holding {@link #widen}'s result; the caller frees it
     */
    public static DeviceBuffer upload(CudaContext context, HostTensor bias, int experts, int n, int nPad) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment f = widen(arena, bias, experts, n, nPad);
            DeviceBuffer b = context.allocate(f.byteSize());
            b.copyFromHost(f);
            return b;
        }
    }
}
