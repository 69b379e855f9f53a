package io.moeoracle.it;

import io.moeoracle.core.device.SimulatedDevices;
import io.moeoracle.core.select.Explanation;
import io.moeoracle.core.select.MoeKernelSelector;
import io.moeoracle.core.weights.ModelConfig;

/**
 * A host that only selects kernels, run by {@link LeanCoreIT} in a JVM whose class path holds api,
 * core, slf4j-api and one third-party backend jar: it prints the explanation as JSON.
 */
final class LeanHost {
    private LeanHost() {
    }

    public static void main(String[] args) {
        Explanation e = MoeKernelSelector.create().explain(ModelConfig.preset("gpt-oss-20b"), SimulatedDevices.get(args[0]));
        System.out.println(e.toJson());
    }
}
