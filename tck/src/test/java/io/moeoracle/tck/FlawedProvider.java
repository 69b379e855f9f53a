package io.moeoracle.tck;

import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.error.KernelStateException;
import io.moeoracle.api.spec.Activation;
import io.moeoracle.api.spec.ActivationFormat;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.WeightFormat;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.ForwardArgs;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.api.tensor.Tensor;
import io.moeoracle.reference.ReferenceMoe;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * A host-side provider built on the float64 reference, correct unless given one flaw: the kit's own
 * tests run the kit against each flaw and check that the kit notices. Each flaw is a subclass with
 * the public no-argument constructor a provider has (the kit's forked JVM instantiates it).
 */
class FlawedProvider implements MoeKernelProvider {
    /** What is wrong with it. */
    enum Flaw {
        /** Nothing: passes the kit. */
        NONE,
        /** Says it runs GELU, runs SiLU instead. */
        CLAIMS_GELU_RUNS_SILU,
        /** Every output 5% too large. */
        OFF_BY_FIVE_PERCENT,
        /** Leaks 16 KiB of native memory per forward. */
        LEAKS_PER_FORWARD,
        /** Calls abort() (a native crash) when hidden has the wrong width. */
        CRASHES_ON_WRONG_SHAPE,
        /** Computes into a buffer shared by all calls, without a lock, and claims to be thread-safe. */
        NOT_THREAD_SAFE,
        /** Leaves the batched rows past each expert's count unwritten instead of zero. */
        BATCHED_PADDING_UNWRITTEN
    }

    private final Flaw flaw;

    FlawedProvider(Flaw flaw) {
        this.flaw = flaw;
    }

    @Override
    public String id() {
        return "flawed-" + flaw.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    @Override
    public String description() {
        return "the float64 reference with the flaw " + flaw;
    }

    @Override
    public int priority(MoeLayerSpec spec, DeviceInfo device) {
        return -1000;
    }

    @Override
    public boolean runsOnHost() {
        return true;
    }

    @Override
    public SupportVerdict isSupported(MoeLayerSpec spec, DeviceInfo device) {
        WeightFormat.Kind k = spec.quant().weights().kind();
        if (k != WeightFormat.Kind.MXFP4 && k != WeightFormat.Kind.BF16) {
            return SupportVerdict.unsupported(spec.quant().weights() + " weights are not read", "use mxfp4 or bf16");
        }
        if (spec.lora()) {
            return SupportVerdict.unsupported("no LoRA", "merge the adapters");
        }
        return SupportVerdict.supported("the reference on the host");
    }

    @Override
    public MoeKernel create(MoeLayerSpec spec, DeviceInfo device) {
        SupportVerdict.requireSupported(this, spec, device);
        if (device.simulated()) {
            throw new BadInputException(id() + " cannot make a kernel on the simulated " + device.id());
        }
        return new Kernel(spec, device);
    }

    @Override
    public String toString() {
        return "FlawedProvider[" + id() + "]";
    }

    private final class Kernel implements MoeKernel {
        private final MoeLayerSpec spec;
        private final MoeLayerSpec runs;
        private final DeviceInfo device;
        private volatile MoeWeights weights;
        private volatile boolean closed;
        private HostTensor shared; // NOT_THREAD_SAFE: one scratch for all calls

        Kernel(MoeLayerSpec spec, DeviceInfo device) {
            this.spec = spec;
            this.device = device;
            this.runs = flaw == Flaw.CLAIMS_GELU_RUNS_SILU && spec.activation() instanceof Activation.Gelu
                    ? spec.toBuilder().activation(Activation.SILU).build() : spec;
        }

        @Override
        public String providerId() {
            return id();
        }

        @Override
        public MoeLayerSpec spec() {
            return spec;
        }

        @Override
        public DeviceInfo device() {
            return device;
        }

        @Override
        public void prepare(MoeWeights w) {
            if (closed) {
                throw KernelStateException.closed(id(), "prepare");
            }
            w.validate(spec);
            weights = w;
        }

        @Override
        public boolean isPrepared() {
            return weights != null;
        }

        @Override
        public void forward(Tensor hidden, Routing routing, Tensor out) {
            if (flaw == Flaw.CRASHES_ON_WRONG_SHAPE && hidden.rank() == 2 && hidden.dim(1) != spec.hiddenSize()) {
                abort(); // what a native kernel reading past its buffer would do, deterministically
            }
            MoeWeights weights = this.weights; // read once: close() may clear the field while this runs
            if (closed || weights == null) {
                throw closed ? KernelStateException.closed(id(), "forward") : KernelStateException.notPrepared(id(), "forward");
            }
            ForwardArgs.check(spec, hidden, routing, out);
            ForwardArgs.checkIds(spec, routing);
            HostTensor o = (HostTensor) out;
            switch (flaw) {
                case NOT_THREAD_SAFE -> {
                    if (shared == null || shared.numel() < o.numel()) {
                        shared = HostTensor.allocate(Arena.global(), DType.F32, spec.maxTokensPerCall(), spec.hiddenSize());
                    }
                    HostTensor scratch = shared.data().byteSize() == o.numel() * 4 ? shared
                            : HostTensor.of(shared.data().asSlice(0, o.numel() * 4), DType.F32, o.shape());
                    ReferenceMoe.forward(runs, weights, (HostTensor) hidden, routing, scratch);
                    Thread.yield();
                    copy(scratch, o);
                }
                case OFF_BY_FIVE_PERCENT -> {
                    HostTensor tmp = HostTensor.allocate(Arena.ofAuto(), DType.F32, o.shape());
                    ReferenceMoe.forward(runs, weights, (HostTensor) hidden, routing, tmp);
                    for (long i = 0; i < tmp.numel(); i++) {
                        tmp.data().setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i,
                                tmp.data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i) * 1.05f);
                    }
                    copy(tmp, o);
                }
                case LEAKS_PER_FORWARD -> {
                    Arena.global().allocate(16 << 10).fill((byte) 1);
                    ReferenceMoe.forward(runs, weights, (HostTensor) hidden, routing, o);
                }
                default -> ReferenceMoe.forward(runs, weights, (HostTensor) hidden, routing, o);
            }
        }

        private static void copy(HostTensor f32, HostTensor out) {
            if (out.dtype() == DType.F32) {
                MemorySegment.copy(f32.data(), 0, out.data(), 0, out.byteSize());
            } else {
                for (long i = 0; i < out.numel(); i++) {
                    out.data().setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, io.moeoracle.api.quant.Bf16.fromFloat(
                            f32.data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i)));
                }
            }
        }

        /** One reference call per valid row, routed to its expert with weight 1 (the others weight 0). */
        @Override
        public void forwardBatched(Tensor hidden, Tensor counts, Tensor out) {
            MoeWeights weights = this.weights; // read once: close() may clear the field while this runs
            if (closed || weights == null) {
                throw closed ? KernelStateException.closed(id(), "forwardBatched")
                        : KernelStateException.notPrepared(id(), "forwardBatched");
            }
            int tb = ForwardArgs.checkBatched(spec, hidden, counts, out);
            HostTensor h = (HostTensor) hidden;
            HostTensor o = (HostTensor) out;
            int el = spec.localExperts();
            int width = spec.hiddenSize();
            int k = spec.topK();
            MoeLayerSpec standard = runs.toBuilder().activationFormat(ActivationFormat.STANDARD).build();
            try (Arena arena = Arena.ofConfined()) {
                HostTensor ids = HostTensor.allocate(arena, DType.I32, 1, k);
                HostTensor wts = HostTensor.allocate(arena, DType.F32, 1, k);
                HostTensor row = HostTensor.allocate(arena, DType.F32, 1, width);
                HostTensor y = HostTensor.allocate(arena, DType.F32, 1, width);
                for (int e = 0; e < el; e++) {
                    int c = Math.clamp(((HostTensor) counts).data().getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, e), 0, tb);
                    int global = spec.expertParallelRank() * el + e;
                    for (int j = 0; j < k; j++) {
                        ids.data().setAtIndex(ValueLayout.JAVA_INT_UNALIGNED, j, (global + j) % spec.experts());
                        wts.data().setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, j, j == 0 ? 1f : 0f);
                    }
                    for (int i = 0; i < tb; i++) {
                        long at = ((long) e * tb + i) * width;
                        if (i < c) {
                            for (int x = 0; x < width; x++) {
                                row.data().setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, x, value(h, at + x));
                            }
                            ReferenceMoe.forward(standard, weights, row, Routing.topK(ids, wts), y);
                        } else if (flaw == Flaw.BATCHED_PADDING_UNWRITTEN) {
                            continue;
                        } else {
                            y.data().fill((byte) 0);
                        }
                        for (int x = 0; x < width; x++) {
                            float v = y.data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, x);
                            if (o.dtype() == DType.F32) {
                                o.data().setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, at + x, v);
                            } else {
                                o.data().setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, at + x,
                                        io.moeoracle.api.quant.Bf16.fromFloat(v));
                            }
                        }
                    }
                }
            }
        }

        private static float value(HostTensor t, long i) {
            return t.dtype() == DType.F32 ? t.data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i)
                    : io.moeoracle.api.quant.Bf16.toFloat(t.data().getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i));
        }

        @Override
        public void close() {
            closed = true;
            weights = null;
        }

        @Override
        public String toString() {
            return "kernel of " + id() + " for " + spec.describe();
        }
    }

    @SuppressWarnings("restricted")
    private static void abort() {
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle abort = linker.downcallHandle(linker.defaultLookup().find("abort").orElseThrow(),
                    FunctionDescriptor.ofVoid());
            abort.invokeExact();
        } catch (Throwable e) {
            throw new IllegalStateException("abort() returned", e);
        }
    }

    /** The positive control. */
    public static final class Flawless extends FlawedProvider {
        /** For the forked JVM. */
        public Flawless() {
            super(Flaw.NONE);
        }
    }

    /** Claims GELU, runs SiLU. */
    public static final class ClaimsGelu extends FlawedProvider {
        /** For the forked JVM. */
        public ClaimsGelu() {
            super(Flaw.CLAIMS_GELU_RUNS_SILU);
        }
    }

    /** 5% off. */
    public static final class OffByFivePercent extends FlawedProvider {
        /** For the forked JVM. */
        public OffByFivePercent() {
            super(Flaw.OFF_BY_FIVE_PERCENT);
        }
    }

    /** Leaks per forward. */
    public static final class Leaky extends FlawedProvider {
        /** For the forked JVM. */
        public Leaky() {
            super(Flaw.LEAKS_PER_FORWARD);
        }
    }

    /** Crashes on a wrong shape. */
    public static final class CrashesOnWrongShape extends FlawedProvider {
        /** For the forked JVM. */
        public CrashesOnWrongShape() {
            super(Flaw.CRASHES_ON_WRONG_SHAPE);
        }
    }

    /** Leaves batched padding rows unwritten. */
    public static final class BatchedPaddingUnwritten extends FlawedProvider {
        /** For the forked JVM. */
        public BatchedPaddingUnwritten() {
            super(Flaw.BATCHED_PADDING_UNWRITTEN);
        }
    }

    /** Not thread-safe, says it is. */
    public static final class NotThreadSafe extends FlawedProvider {
        /** For the forked JVM. */
        public NotThreadSafe() {
            super(Flaw.NOT_THREAD_SAFE);
        }
    }
}
