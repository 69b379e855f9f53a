package io.moeoracle.cuda.moe.kernel;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.DeviceTensor;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.api.tensor.Tensor;
import io.moeoracle.cuda.moe.host.CudaHost;
import io.moeoracle.driver.cuda.CudaTensor;
import io.moeoracle.driver.cuda.DeviceBuffer;
import java.util.Objects;

/**
 * Where a forward's tensors live, and the device addresses the launches read: device tensors as they
 * are, host tensors copied into the kernel's staging buffers. Residence checks compare CUDA ids, because
 * the kernel's device may be its GPU seen through another driver. Callers of the copying methods hold the
 * kernel's lock.
 */
public final class TensorStaging {
    private final DeviceInfo device;
    private final String providerId;

    /** Queues a conversion of {@code n} F32 values at {@code src} into BF16 at {@code dst} on the kernel's stream. */
    @FunctionalInterface
    public interface Bf16Conversion {
        /**
         * @param src device address of F32 values
         * @param dst device address of the BF16 buffer
         */
        void convert(long src, long dst);
    }

    /**
     * @param device the kernel's device
     * @param providerId the kernel's provider, for messages
     */
    public TensorStaging(DeviceInfo device, String providerId) {
        this.device = Objects.requireNonNull(device, "device");
        this.providerId = Objects.requireNonNull(providerId, "providerId");
    }

    /**
     * @param name the argument, for the message ({@code "hidden"}, {@code "top-k ids"})
     * @param t a forward argument
     * @throws BadInputException for a device tensor of another GPU or of another backend's kind
     */
    public void checkResidence(String name, Tensor t) {
        switch (t) {
            case HostTensor _ -> {
            }
            case CudaTensor c -> {
                String cudaId = CudaHost.cudaId(device);
                if (!c.deviceId().equals(cudaId)) {
                    throw new BadInputException(name + " lives on " + c.deviceId() + " but this kernel runs on "
                            + cudaId + "; copy it there or allocate it with this kernel");
                }
            }
            case DeviceTensor d -> throw new BadInputException(name + " is a " + d.getClass().getName()
                    + " of device " + d.deviceId() + "; " + providerId + " takes HostTensors or tensors from its"
                    + " allocate()");
        }
    }

    /**
     * The device addresses of a forward's routing; the fields of the other kind of routing are 0.
     *
     * @param logits router logits {@code [T, E]}
     * @param logitsBf16 whether the logits are BF16 (else F32)
     * @param ids top-k ids {@code [T, k]}
     * @param weights top-k weights {@code [T, k]}
     */
    public record DeviceRouting(long logits, boolean logitsBf16, long ids, long weights) {
        /** @return {@link #logitsBf16} as the kernels' integer flag */
        public int logitsBf16Flag() {
            return logitsBf16 ? 1 : 0;
        }
    }

    /**
     * Checks where each argument of a forward lives ({@link #checkResidence(String, Tensor)}).
     *
     * @param hidden the activations
     * @param routing the routing
     * @param out the output
     */
    public void checkResidence(Tensor hidden, Routing routing, Tensor out) {
        checkResidence("hidden", hidden);
        checkResidence("out", out);
        switch (routing) {
            case Routing.Logits l -> checkResidence("router logits", l.logits());
            case Routing.TopK k -> {
                checkResidence("top-k ids", k.ids());
                checkResidence("top-k weights", k.weights());
            }
        }
    }

    /**
     * @param routing a capture's routing
     * @return its device addresses
     * @throws BadInputException for host tensors or device tensors of another GPU
     */
    public DeviceRouting requireDevice(Routing routing) {
        return switch (routing) {
            case Routing.Logits l -> new DeviceRouting(requireDevice("router logits", l.logits()).address(),
                    l.logits().dtype() == DType.BF16, 0, 0);
            case Routing.TopK k -> new DeviceRouting(0, false, requireDevice("top-k ids", k.ids()).address(),
                    requireDevice("top-k weights", k.weights()).address());
        };
    }

    /**
     * Copies host routing tensors into staging buffers ({@link #in}); device ones are used as they are.
     *
     * @param routing a forward's routing (residence checked)
     * @param logits the staging buffer of router logits
     * @param ids the staging buffer of top-k ids
     * @param weights the staging buffer of top-k weights
     * @return the device addresses the launches read
     */
    public static DeviceRouting stage(Routing routing, DeviceBuffer logits, DeviceBuffer ids, DeviceBuffer weights) {
        return switch (routing) {
            case Routing.Logits l -> new DeviceRouting(in(l.logits(), logits), l.logits().dtype() == DType.BF16, 0, 0);
            case Routing.TopK k -> new DeviceRouting(0, false, in(k.ids(), ids), in(k.weights(), weights));
        };
    }

    /**
     * @param name the argument, for the message
     * @param t an argument of a capture, which records device addresses
     * @return the tensor as a device tensor of this kernel's GPU
     * @throws BadInputException for a host tensor, or one that {@link #checkResidence} rejects
     */
    public CudaTensor requireDevice(String name, Tensor t) {
        checkResidence(name, t);
        if (t instanceof CudaTensor c) {
            return c;
        }
        throw new BadInputException("capture needs device tensors; " + name + " is a host tensor (use allocate())");
    }

    /**
     * @param tensors a call's arguments
     * @return whether a call writes staging buffers from the host (then an earlier queued call that may still
     *     read them must finish first)
     */
    public static boolean anyOnHost(Tensor... tensors) {
        for (Tensor t : tensors) {
            if (t instanceof HostTensor) {
                return true;
            }
        }
        return false;
    }

    /**
     * @param routing a forward's routing
     * @return its tensors: the router logits, or the top-k ids and weights
     */
    public static Tensor[] routingTensors(Routing routing) {
        return switch (routing) {
            case Routing.Logits l -> new Tensor[] {l.logits()};
            case Routing.TopK k -> new Tensor[] {k.ids(), k.weights()};
        };
    }

    /**
     * @param t an input (a device tensor that passed {@link #checkResidence}, or a host tensor)
     * @param staging the buffer a host tensor is copied into
     * @return the device address the launches read
     */
    public static long in(Tensor t, DeviceBuffer staging) {
        if (t instanceof CudaTensor c) {
            return c.address();
        }
        staging.copyFromHost(((HostTensor) t).data());
        return staging.address();
    }

    /**
     * @param out the output
     * @param stageOut the staging buffer a host output is copied out of after the call
     * @return the device address the last launch writes
     */
    public static long out(Tensor out, DeviceBuffer stageOut) {
        return out instanceof CudaTensor c ? c.address() : stageOut.address();
    }

    /**
     * The device address of BF16 activations: a BF16 device tensor as is; an F32 device tensor converted
     * into {@code bf16}; host tensors copied in first (F32 through {@code f32Stage}, then converted).
     *
     * @param hidden the activations (F32 or BF16)
     * @param bf16 the kernel's BF16 activation scratch
     * @param f32Stage a staging buffer large enough for the F32 activations
     * @param convert queues the conversion (a no-op where the caller converts later, inside a recording)
     * @return the device address of the BF16 activations
     */
    public static long bf16Hidden(Tensor hidden, DeviceBuffer bf16, DeviceBuffer f32Stage, Bf16Conversion convert) {
        switch (hidden) {
            case CudaTensor c when c.dtype() == DType.BF16 -> {
                return c.address();
            }
            case CudaTensor c -> {
                convert.convert(c.address(), bf16.address());
                return bf16.address();
            }
            case HostTensor h when h.dtype() == DType.BF16 -> {
                bf16.copyFromHost(h.data());
                return bf16.address();
            }
            case HostTensor h -> {
                f32Stage.copyFromHost(h.data());
                convert.convert(f32Stage.address(), bf16.address());
                return bf16.address();
            }
            default -> throw new BadInputException("hidden is a " + hidden.getClass().getName()
                    + "; pass a HostTensor or a tensor from allocate()");
        }
    }
}
