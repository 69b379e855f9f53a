package io.moeoracle.backend.triton;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.DeviceTensor;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.api.tensor.Tensor;
import io.moeoracle.driver.cuda.CudaTensor;
import io.moeoracle.driver.cuda.DeviceBuffer;

/** Where a forward's tensors live and how host ones are staged into a kernel's scratch. */
final class TritonTensors {
    private TritonTensors() {
    }

    /** Queues an F32 -> BF16 conversion from one device address to another. */
    interface Converter {
        void convert(long src, long dst);
    }

    /**
     * @return the device address of the BF16 activations: a BF16 device tensor as is; F32 converted into
     *     scratch; host tensors copied in first
     */
    static long stageHidden(Tensor hidden, TritonScratch sc, long n, Converter convert) {
        switch (hidden) {
            case CudaTensor c when c.dtype() == DType.BF16 -> {
                requireAligned("hidden", c.address());
                return c.address();
            }
            case CudaTensor c -> {
                convert.convert(c.address(), sc.hiddenBf16.address());
                return sc.hiddenBf16.address();
            }
            case HostTensor h when h.dtype() == DType.BF16 -> {
                sc.hiddenBf16.copyFromHost(h.data());
                return sc.hiddenBf16.address();
            }
            case HostTensor h -> {
                sc.stageOut.copyFromHost(h.data()); // F32 staging, large enough for [T, H] floats
                convert.convert(sc.stageOut.address(), sc.hiddenBf16.address());
                return sc.hiddenBf16.address();
            }
            default -> throw new BadInputException("hidden is a " + hidden.getClass().getName()
                    + "; pass a HostTensor or a tensor from allocate()");
        }
    }

    static long stageIn(Tensor t, DeviceBuffer staging) {
        if (t instanceof CudaTensor c) {
            return c.address();
        }
        staging.copyFromHost(((HostTensor) t).data());
        return staging.address();
    }

    /** Whether a call writes staging buffers that an earlier queued call may still read. */
    static boolean usesStaging(Tensor hidden, Routing routing, Tensor out) {
        boolean host = hidden instanceof HostTensor || out instanceof HostTensor || hidden.dtype() == DType.F32;
        return switch (routing) {
            case Routing.Logits l -> host || l.logits() instanceof HostTensor;
            case Routing.TopK k -> host || k.ids() instanceof HostTensor || k.weights() instanceof HostTensor;
        };
    }

    static void checkResidence(DeviceInfo device, String name, Tensor t) {
        switch (t) {
            case HostTensor _ -> {
            }
            case CudaTensor c -> {
                // the kernel's device may be this GPU seen through another driver: compare CUDA ids
                String cudaId = TritonHost.cudaId(device);
                if (!c.deviceId().equals(cudaId)) {
                    throw new BadInputException(name + " lives on " + c.deviceId() + " but this kernel runs on "
                            + cudaId + "; copy it there or allocate it with this kernel");
                }
            }
            case DeviceTensor d -> throw new BadInputException(name + " is a " + d.getClass().getName()
                    + " of device " + d.deviceId() + "; the triton backend takes HostTensors or tensors from its "
                    + "allocate()");
        }
    }

    static CudaTensor requireDevice(DeviceInfo device, String name, Tensor t) {
        checkResidence(device, name, t);
        if (t instanceof CudaTensor c) {
            return c;
        }
        throw new BadInputException("capture needs device tensors; " + name + " is a host tensor (use "
                + "allocate())");
    }

    /** The GEMM variants were compiled assuming 16-byte aligned activations (tt.divisibility 16). */
    static void requireAligned(String name, long address) {
        if (address % 16 != 0) {
            throw new BadInputException(name + " at device address 0x" + Long.toHexString(address)
                    + " is not 16-byte aligned, which the Triton kernels assume; pass a tensor from allocate()");
        }
    }
}
