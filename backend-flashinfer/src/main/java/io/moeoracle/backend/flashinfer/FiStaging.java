package io.moeoracle.backend.flashinfer;

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
 * they are, host tensors copied into the scratch's staging buffers. (As backend-marlin's
 * MarlinStaging; backends may not share code.) Callers hold the kernel's lock.
 */
final class FiStaging {
    private final DeviceInfo device;
    private final String providerId;
    private final FiScratch scratch;

    FiStaging(DeviceInfo device, String providerId, FiScratch scratch) {
        this.device = device;
        this.providerId = providerId;
        this.scratch = scratch;
    }

    /**
     * The device address of the activations as given (F32 or BF16): a device tensor as is, a host
     * tensor copied into staging (F32 into the F32 staging buffer, BF16 into the BF16 scratch).
     */
    long hidden(Tensor hidden) {
        return switch (hidden) {
            case CudaTensor c -> c.address();
            case HostTensor h when h.dtype() == DType.BF16 -> {
                scratch.hiddenBf16.copyFromHost(h.data());
                yield scratch.hiddenBf16.address();
            }
            case HostTensor h -> {
                scratch.stageOut.copyFromHost(h.data()); // F32 staging, large enough for [T, H] floats
                yield scratch.stageOut.address();
            }
            default -> throw new BadInputException("hidden is a " + hidden.getClass().getName()
                    + "; pass a HostTensor or a tensor from allocate()");
        };
    }

    /** Whether a call writes staging buffers from the host. */
    static boolean usesStaging(Tensor... tensors) {
        for (Tensor t : tensors) {
            if (t instanceof HostTensor) {
                return true;
            }
        }
        return false;
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
                    + " of device " + d.deviceId() + "; " + providerId + " takes HostTensors or tensors from its"
                    + " allocate()");
        }
    }

    CudaTensor requireDevice(String name, Tensor t) {
        checkResidence(name, t);
        if (t instanceof CudaTensor c) {
            return c;
        }
        throw new BadInputException("capture needs device tensors; " + name + " is a host tensor (use allocate())");
    }
}
