package io.moeoracle.backend.marlin;

import io.moeoracle.api.device.DeviceAddress;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.DeviceTensor;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.Tensor;
import io.moeoracle.driver.cuda.CudaTensor;
import io.moeoracle.driver.cuda.DeviceBuffer;

/**
 * Where a forward's tensors live, and the device addresses the launches read: device tensors as
 * they are, host tensors copied into the scratch's staging buffers, F32 activations converted to
 * BF16. Callers hold the kernel's lock.
 */
final class MarlinStaging {
    private final DeviceInfo device;
    private final MarlinScratch scratch;
    private final MarlinLaunches launches;

    MarlinStaging(DeviceInfo device, MarlinScratch scratch, MarlinLaunches launches) {
        this.device = device;
        this.scratch = scratch;
        this.launches = launches;
    }

    /**
     * Device address of the BF16 activations: a BF16 device tensor as is; F32 (device: converted
     * into scratch by a launch queued here, not during capture) or host tensors copied in.
     */
    long hidden(Tensor hidden, long n, boolean convertNow) {
        switch (hidden) {
            case CudaTensor c when c.dtype() == DType.BF16 -> {
                return c.address();
            }
            case CudaTensor c -> {
                if (convertNow) {
                    launches.convertHidden(c.address(), n);
                }
                return scratch.hiddenBf16.address();
            }
            case HostTensor h when h.dtype() == DType.BF16 -> {
                scratch.hiddenBf16.copyFromHost(h.data());
                return scratch.hiddenBf16.address();
            }
            case HostTensor h -> {
                scratch.stageOut.copyFromHost(h.data()); // F32 staging, large enough for [T, H] floats
                launches.convertHidden(scratch.stageOut.address(), n);
                return scratch.hiddenBf16.address();
            }
            default -> throw new BadInputException("hidden is a " + hidden.getClass().getName()
                    + "; pass a HostTensor or a tensor from allocate()");
        }
    }

    /** Whether a call writes staging buffers from the host (F32 hidden is converted into scratch too). */
    static boolean usesStaging(Tensor hidden, Tensor out, Tensor[] others) {
        boolean host = hidden instanceof HostTensor || out instanceof HostTensor || hidden.dtype() == DType.F32;
        for (Tensor t : others) {
            host |= t instanceof HostTensor;
        }
        return host;
    }

    static long in(Tensor t, DeviceBuffer staging) {
        if (t instanceof CudaTensor c) {
            return c.address();
        }
        staging.copyFromHost(((HostTensor) t).data());
        return staging.address();
    }

    /** Device address of the output: a device tensor as is, else the staging buffer copied out afterwards. */
    long out(Tensor out) {
        return out instanceof CudaTensor c ? c.address() : scratch.stageOut.address();
    }

    void checkResidence(String name, Tensor t) {
        switch (t) {
            case HostTensor _ -> {
            }
            case CudaTensor c -> {
                // the kernel's device may be this GPU seen through another driver: compare CUDA ids
                String cudaId = device.address(DeviceAddress.Cuda.class).map(DeviceAddress::id).orElse(device.id());
                if (!c.deviceId().equals(cudaId)) {
                    throw new BadInputException(name + " lives on " + c.deviceId() + " but this kernel runs on "
                            + cudaId + "; copy it there or allocate it with this kernel");
                }
            }
            case DeviceTensor d -> throw new BadInputException(name + " is a " + d.getClass().getName()
                    + " of device " + d.deviceId() + "; marlin takes HostTensors or tensors from its allocate()");
        }
    }

    CudaTensor requireDevice(String name, Tensor t) {
        checkResidence(name, t);
        if (t instanceof CudaTensor c) {
            return c;
        }
        throw new BadInputException("capture needs device tensors; " + name + " is a host tensor (use allocate())");
    }

    static void floatType(String name, Tensor t) {
        if (t.dtype() != DType.F32 && t.dtype() != DType.BF16) {
            throw new BadInputException(name + " is " + t.dtype() + " but must be F32 or BF16");
        }
    }
}
