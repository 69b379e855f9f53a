package io.moeoracle.reference;

import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.Priority;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.error.KernelStateException;
import io.moeoracle.api.spec.ActivationFormat;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.spec.WeightFormat;
import io.moeoracle.api.tensor.ForwardArgs;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.LoraAdapter;
import io.moeoracle.api.tensor.LoraArgs;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.api.tensor.Tensor;

/**
 * The provider of last resort, id {@code emulation}: {@link ReferenceMoe} wrapped as a kernel, so
 * every valid MXFP4 or BF16 layer runs somewhere, slowly, and says so. It runs on the host CPU
 * whatever device it is handed; quantized activation types are emulated (quantize, dequantize,
 * multiply in float64).
 */
public final class EmulationProvider implements MoeKernelProvider {
    /** The provider id. */
    public static final String ID = "emulation";
    /** {@link Priority#REFERENCE}: anything else supported runs first. */
    public static final int PRIORITY = Priority.REFERENCE;

    /** For {@link java.util.ServiceLoader}. */
    public EmulationProvider() {
    }

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String description() {
        return "pure-Java float64 reference on the host CPU; slow, for checking, not serving";
    }

    @Override
    public int priority(MoeLayerSpec spec, DeviceInfo device) {
        return PRIORITY;
    }

    /** @return true: the reference runs on the host CPU whatever the device, so it is never a silent GPU fallback */
    @Override
    public boolean runsOnHost() {
        return true;
    }

    @Override
    public ActivationType activationType(MoeLayerSpec spec, DeviceInfo device) {
        ActivationType requested = spec.quant().activations();
        return requested == ActivationType.AUTO ? ActivationType.BF16 : requested;
    }

    @Override
    public SupportVerdict isSupported(MoeLayerSpec spec, DeviceInfo device) {
        WeightFormat.Kind kind = spec.quant().weights().kind();
        if (kind != WeightFormat.Kind.MXFP4 && kind != WeightFormat.Kind.BF16) {
            return SupportVerdict.unsupported("the reference has no canonical layout for "
                    + spec.quant().weights() + " weights (it reads MXFP4 and BF16)",
                    "convert the weights to mxfp4 or bf16, or pick a backend that reads " + spec.quant().weights());
        }
        if (spec.activationFormat() != ActivationFormat.STANDARD) {
            return SupportVerdict.unsupported("the reference takes the standard [T, H] token layout, not "
                    + spec.activationFormat(), "use activationFormat STANDARD (undo the expert-parallel dispatch)");
        }
        ActivationType act = activationType(spec, device);
        String how = (act.isQuantized() ? ", " + act + " activations emulated" : "")
                + (spec.lora() ? ", LoRA up to rank " + spec.maxLoraRank() + " in " + spec.adapterSlots() + " slots" : "");
        return SupportVerdict.supported("pure-Java float64 reference on the host CPU" + how
                + " (device " + device.id() + " is not used); slow: for checking, not serving");
    }

    @Override
    public String toString() {
        return "EmulationProvider[" + ID + ", priority " + PRIORITY + ", host CPU, float64]";
    }

    @Override
    public MoeKernel create(MoeLayerSpec spec, DeviceInfo device) {
        SupportVerdict.requireSupported(this, spec, device);
        if (device.simulated()) { // MoeKernelProvider's contract, though the reference would not use the device
            throw new io.moeoracle.api.error.BadInputException("emulation makes kernels for real devices only; "
                    + device.id() + " is simulated: pass the host CPU or the device you run on");
        }
        return new EmulationKernel(spec, device);
    }

    /**
     * Keeps the canonical weights and runs {@link ReferenceMoe} on every forward. Thread-safe without
     * locks: a forward reads the weights and the adapters once, and {@code close} frees nothing a
     * running forward uses (the canonical tensors belong to the caller). LoRA adapters are kept by
     * reference like the weights: the caller keeps their tensors alive while they are loaded.
     */
    private static final class EmulationKernel implements MoeKernel {
        private final MoeLayerSpec spec;
        private final DeviceInfo device;
        private volatile MoeWeights weights;
        private volatile boolean closed;
        private final java.util.concurrent.ConcurrentHashMap<Integer, LoraAdapter> adapters =
                new java.util.concurrent.ConcurrentHashMap<>();

        EmulationKernel(MoeLayerSpec spec, DeviceInfo device) {
            this.spec = spec;
            this.device = device;
        }

        @Override
        public String providerId() {
            return ID;
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
            open();
            w.validate(spec);
            // the canonical tensors are read in place on every forward: the caller keeps them alive
            weights = w;
        }

        @Override
        public boolean isPrepared() {
            return weights != null;
        }

        @Override
        public void loadAdapter(int slot, LoraAdapter adapter) {
            open();
            LoraArgs.checkSlot(ID, spec, slot);
            adapter.validate(spec);
            adapters.put(slot, adapter);
        }

        @Override
        public void unloadAdapter(int slot) {
            open();
            LoraArgs.checkSlot(ID, spec, slot);
            adapters.remove(slot);
        }

        @Override
        public void forward(Tensor hidden, Routing routing, Tensor adapterIds, Tensor out) {
            java.util.Map<Integer, LoraAdapter> now = java.util.Map.copyOf(adapters);
            MoeWeights w = checked(hidden, routing, out);
            int tokens = Math.toIntExact(hidden.dim(0));
            LoraArgs.checkIds(ID, spec, adapterIds, tokens, now::containsKey);
            ReferenceMoe.forward(spec, w, host(hidden, "hidden"), routing,
                    new LoraInput(now, host(adapterIds, "adapter ids")), host(out, "out"));
        }

        @Override
        public void forward(Tensor hidden, Routing routing, Tensor out) {
            MoeWeights w = checked(hidden, routing, out);
            ReferenceMoe.forward(spec, w, host(hidden, "hidden"), routing, host(out, "out"));
        }

        private MoeWeights checked(Tensor hidden, Routing routing, Tensor out) {
            open();
            MoeWeights w = weights;
            if (w == null) {
                throw KernelStateException.notPrepared(ID, "forward");
            }
            ForwardArgs.check(spec, hidden, routing, out);
            switch (routing) {
                case Routing.Logits l -> host(l.logits(), "router logits");
                case Routing.TopK k -> {
                    host(k.ids(), "top-k ids");
                    host(k.weights(), "top-k weights");
                }
            }
            ForwardArgs.checkIds(spec, routing);
            return w;
        }

        private static HostTensor host(Tensor t, String name) {
            if (t instanceof HostTensor h) {
                return h;
            }
            throw new BadInputException(name + " is a device tensor " + t
                    + "; the emulation kernel runs on the host: pass HostTensors");
        }

        private void open() {
            if (closed) {
                throw KernelStateException.closed(ID, "this call");
            }
        }

        @Override
        public void close() {
            closed = true;
            weights = null;
            adapters.clear();
        }

        @Override
        public String toString() {
            return ID + " kernel for " + spec.describe() + (closed ? " (closed)" : weights == null ? " (not prepared)" : "");
        }
    }
}
