package io.moeoracle.core.select;

import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.core.MoeOracleException;
import java.util.Objects;

/**
 * The selector's answer: the provider that runs the layer, and why.
 *
 * @param winner the chosen provider
 * @param spec the layer
 * @param device the device
 * @param explanation every verdict, in order
 */
public record Selection(MoeKernelProvider winner, MoeLayerSpec spec, DeviceInfo device, Explanation explanation) {

    /** Rejects nulls. */
    public Selection {
        Objects.requireNonNull(winner, "winner");
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(explanation, "explanation");
    }

    /** @return the winner's id, as the explanation records it */
    public String winnerId() {
        return explanation.winnerId().orElseThrow();
    }

    /**
     * Creates the winner's kernel for this layer and device (not yet prepared).
     *
     * @return the kernel; close it when done
     * @throws MoeOracleException when the device is simulated, or the provider returned null
     */
    public MoeKernel createKernel() {
        if (device.simulated()) {
            throw new MoeOracleException("cannot create a kernel on the simulated device " + device.id()
                    + ": simulated devices are for planning (explain) only. Select on a real device instead, e.g."
                    + " --device auto, or one listed by `moe-oracle devices`.");
        }
        MoeKernel kernel = winner.create(spec, device);
        if (kernel == null) {
            throw new MoeOracleException("backend '" + winnerId() + "' (" + winner.getClass().getName()
                    + ") returned no kernel from create() for " + spec.describe() + " on " + device.describe()
                    + ". This is a bug in that backend; exclude it with -Dmoe.exclude=" + winnerId()
                    + " and report it to its authors.");
        }
        return kernel;
    }
}
