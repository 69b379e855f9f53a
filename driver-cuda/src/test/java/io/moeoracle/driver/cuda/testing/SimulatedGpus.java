package io.moeoracle.driver.cuda.testing;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.SimulatedDeviceCatalogue;
import io.moeoracle.api.device.Vendor;
import java.util.Set;

/** Simulated devices for the CUDA backends' verdict tests: api's built-in catalogue, and a pre-Ampere card it lacks. */
public final class SimulatedGpus {
    /** A Turing card (sm_75, no BF16 tensor cores), which the built-in catalogue does not list. */
    public static final DeviceInfo T4 = SimulatedDeviceCatalogue.device("sm_75", Vendor.NVIDIA, "sm_75", "NVIDIA T4", 40,
            16L << 30, Set.of("bf16"));

    private SimulatedGpus() {
    }

    /**
     * @param name the word after {@code sim:}, e.g. {@code sm_90} or {@code gfx942}
     * @return that device of api's built-in simulated catalogue
     */
    public static DeviceInfo sim(String name) {
        return SimulatedDeviceCatalogue.builtIn().devices().stream().filter(d -> d.id().equals("sim:" + name))
                .findFirst().orElseThrow(() -> new AssertionError("no built-in simulated device sim:" + name));
    }
}
