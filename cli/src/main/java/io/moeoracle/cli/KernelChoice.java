package io.moeoracle.cli;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.core.device.DeviceRegistry;
import io.moeoracle.core.select.MoeKernelSelector;
import io.moeoracle.core.select.Selection;

/** What run and bench share: a real device and the backend that will run the layer on it. */
final class KernelChoice {
    private KernelChoice() {
    }

    /**
     * @param root the command, for its selector and table renderer
     * @param spec the layer
     * @param deviceOption the --device value
     * @param command the command name, for the message on a simulated device
     * @return the selection on a real device
     * @throws CliErrors.UsageException for a simulated device
     * @throws CliErrors.NoKernelException carrying the table of verdicts when nothing can run the layer
     */
    static Selection onRealDevice(MoeOracleCli root, MoeLayerSpec spec, String deviceOption, String command) {
        DeviceInfo d = DeviceRegistry.discover().resolve(deviceOption);
        if (d.simulated()) {
            throw new CliErrors.UsageException("device " + d.id() + " is simulated and cannot " + command
                    + " anything; use 'moe-oracle explain' for simulated devices, or --device auto");
        }
        MoeKernelSelector selector = root.selector();
        // the explanation is cached by the selector, so the error path judges nothing twice
        return selector.trySelect(spec, d).orElseThrow(() -> new CliErrors.NoKernelException("no backend can run "
                + spec.describe() + " on " + d.describe() + "\n\n" + root.table().render(selector.explain(spec, d))));
    }
}
