package io.moeoracle.backend.marlin;

import io.moeoracle.api.HostAvailability;
import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.RooflineProbe;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.ActivationFormat;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.cuda.moe.host.CudaHost;

/**
 * {@code batched-marlin}: the marlin kernels for the batched (expert-parallel) format, where tokens
 * arrive already grouped per local expert ({@code [E_local, maxTokens, H]} plus per-expert counts).
 * Its kernels run {@link io.moeoracle.api.MoeKernel#forwardBatched}; see there for the forward contract.
 */
public final class BatchedMarlinProvider implements MoeKernelProvider, RooflineProbe {
    /** The provider id. */
    public static final String ID = "batched-marlin";

    /** Does no work: the driver and the kernel image are loaded on first use. */
    public BatchedMarlinProvider() {
    }

    @Override
    public String id() {
        return ID;
    }

    @Override
    public String description() {
        return "Marlin-style W4A16 CUDA kernels for per-expert token batches (expert parallelism)";
    }

    @Override
    public int priority(MoeLayerSpec spec, DeviceInfo device) {
        return MarlinRules.PRIORITY;
    }

    @Override
    public SupportVerdict isSupported(MoeLayerSpec spec, DeviceInfo device) {
        return MarlinRules.verdict(spec, device, ActivationFormat.BATCHED, ID);
    }

    @Override
    public HostAvailability hostAvailability() {
        return CudaHost.availability(MarlinImage.IMAGE);
    }

    @Override
    public MoeKernel create(MoeLayerSpec spec, DeviceInfo device) {
        return MarlinKernel.create(ID, ActivationFormat.BATCHED, spec, device);
    }

    @Override
    public Ceilings measureCeilings(DeviceInfo device) {
        return CudaHost.measureCeilings(device, ID);
    }

    @Override
    public String toString() {
        return "BatchedMarlinProvider[" + ID + ", CUDA W4A16 kernels, NVIDIA sm_80+]";
    }
}
