package io.moeoracle.backend.xpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.DeviceProbe;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.api.quant.Bf16;
import io.moeoracle.api.spec.Activation;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.QuantScheme;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.driver.opencl.OpenClDeviceProbe;
import io.moeoracle.reference.RandomMoe;
import io.moeoracle.reference.ReferenceMoe;
import io.moeoracle.reference.RelativeError;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Random;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Shared pieces of the xpu tests: device choice, random cases, the comparison with the reference. */
final class XpuTestSupport {
    private static final Logger LOG = LoggerFactory.getLogger(XpuTestSupport.class);

    private XpuTestSupport() {
    }

    /**
     * The OpenCL device the tests run on: the first GPU (the NVIDIA one on the GPU machine; narrow with
     * -Dmoe.opencl.platform=NVIDIA), else the first device (PoCL's CPU device in CI).
     *
     * @param requireGpu fail when there is no GPU (else skip without an OpenCL device, see {@link Requires})
     * @return the device
     */
    static DeviceInfo device(boolean requireGpu) {
        if (!requireGpu) {
            Requires.openClDevice(); // the gpu-tagged tests run only where asked for, and then must fail
        }
        DeviceProbe.Result r = new OpenClDeviceProbe().probe();
        assertThat(r.devices()).as("OpenCL devices (probe said: %s)", r.reason().orElse("")).isNotEmpty();
        List<DeviceInfo> gpus = r.devices().stream().filter(d -> d.vendor() != Vendor.CPU).toList();
        if (requireGpu) {
            assertThat(gpus).as("OpenCL GPU devices among %s", r.devices()).isNotEmpty();
        }
        DeviceInfo d = gpus.isEmpty() ? r.devices().getFirst() : gpus.getFirst();
        LOG.info("xpu tests run on {}", d.describe());
        return d;
    }

    /** One random forward call. */
    record Case(MoeLayerSpec spec, int tokens, DType hiddenType, DType outType, boolean logits, long seed) {
        @Override
        public String toString() {
            return spec.describe() + " T=" + tokens + " hidden " + hiddenType + " out " + outType
                    + (logits ? " logits" : " topk") + " seed " + seed;
        }
    }

    static Case randomCase(Random rnd, long seed) {
        boolean mx = rnd.nextBoolean();
        int experts = 2 + rnd.nextInt(15);
        int k = 1 + rnd.nextInt(Math.min(4, experts));
        int h = 32 * (1 + rnd.nextInt(6));
        int i = 32 * (1 + rnd.nextInt(6));
        Activation act = switch (rnd.nextInt(3)) {
            case 0 -> Activation.SWIGLU_OAI;
            case 1 -> Activation.SILU;
            default -> Activation.GELU;
        };
        int ep = experts % 2 == 0 && rnd.nextInt(4) == 0 ? 2 : 1;
        MoeLayerSpec spec = MoeLayerSpec.builder().experts(experts).topK(k).hiddenSize(h).intermediateSize(i)
                .quant(mx ? QuantScheme.MXFP4_BF16 : QuantScheme.BF16).activation(act).hasBias(rnd.nextBoolean())
                .expertParallel(ep, ep == 1 ? 0 : rnd.nextInt(ep)).maxTokensPerCall(64).build();
        return new Case(spec, 1 + rnd.nextInt(24), rnd.nextBoolean() ? DType.F32 : DType.BF16,
                rnd.nextBoolean() ? DType.F32 : DType.BF16, rnd.nextBoolean(), seed);
    }

    static Routing routing(Case c, Arena arena) {
        return c.logits() ? Routing.logits(RandomMoe.routerLogits(c.tokens(), c.spec().experts(), c.seed() + 2, arena))
                : RandomMoe.topK(c.spec(), c.tokens(), c.seed() + 3, arena);
    }

    /** Fills a tensor with NaN so that any element the kernel leaves unwritten shows. */
    static void poison(HostTensor t) {
        MemorySegment m = t.data();
        if (t.dtype() == DType.F32) {
            for (long j = 0; j < t.numel(); j++) {
                m.setAtIndex(ValueLayout.JAVA_FLOAT, j, Float.NaN);
            }
        } else {
            for (long j = 0; j < t.numel(); j++) {
                m.setAtIndex(ValueLayout.JAVA_SHORT, j, Bf16.fromFloat(Float.NaN));
            }
        }
    }

    static long countNaNs(HostTensor t) {
        long n = 0;
        for (long j = 0; j < t.numel(); j++) {
            float v = t.dtype() == DType.F32 ? t.data().getAtIndex(ValueLayout.JAVA_FLOAT, j)
                    : Bf16.toFloat(t.data().getAtIndex(ValueLayout.JAVA_SHORT, j));
            n += Float.isNaN(v) ? 1 : 0;
        }
        return n;
    }

    /**
     * Runs the case on the kernel (out NaN-poisoned first) and on the reference.
     *
     * @return the relative L2 error
     */
    static double runAgainstReference(XpuMoeKernel kernel, Case c, MoeWeights w, Arena arena) {
        HostTensor hidden = RandomMoe.hidden(c.tokens(), c.spec().hiddenSize(), c.hiddenType(), c.seed() + 1, arena);
        Routing routing = routing(c, arena);
        HostTensor out = HostTensor.allocate(arena, c.outType(), c.tokens(), c.spec().hiddenSize());
        poison(out);
        kernel.forward(hidden, routing, out);
        assertThat(countNaNs(out)).as("NaN elements left in out (%s)", c).isZero();
        HostTensor expected = HostTensor.allocate(arena, DType.F32, c.tokens(), c.spec().hiddenSize());
        ReferenceMoe.forward(c.spec(), w, hidden, routing, expected);
        return RelativeError.l2(out, expected);
    }
}
