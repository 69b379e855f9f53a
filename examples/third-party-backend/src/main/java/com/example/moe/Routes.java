package com.example.moe;

import io.moeoracle.api.quant.Bf16;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Routing on the Java side: top-k of the router logits (ties to the lower id), softmax over the k. */
final class Routes {
    private Routes() {
    }

    static float value(HostTensor t, long i) {
        return t.dtype() == DType.F32 ? t.data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i)
                : Bf16.toFloat(t.data().getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i));
    }

    static void topK(HostTensor logits, int tokens, int experts, int k, MemorySegment ids, MemorySegment weights) {
        double[] row = new double[experts];
        boolean[] taken = new boolean[experts];
        double[] chosen = new double[k];
        for (int t = 0; t < tokens; t++) {
            for (int e = 0; e < experts; e++) {
                row[e] = value(logits, (long) t * experts + e);
                taken[e] = false;
            }
            for (int j = 0; j < k; j++) {
                int best = -1;
                for (int e = 0; e < experts; e++) {
                    if (!taken[e] && (best < 0 || row[e] > row[best])) {
                        best = e;
                    }
                }
                taken[best] = true;
                chosen[j] = row[best];
                ids.setAtIndex(ValueLayout.JAVA_INT, (long) t * k + j, best);
            }
            double max = chosen[0];
            double sum = 0;
            for (int j = 0; j < k; j++) {
                chosen[j] = Math.exp(chosen[j] - max);
                sum += chosen[j];
            }
            for (int j = 0; j < k; j++) {
                weights.setAtIndex(ValueLayout.JAVA_FLOAT, (long) t * k + j, (float) (chosen[j] / sum));
            }
        }
    }
}
