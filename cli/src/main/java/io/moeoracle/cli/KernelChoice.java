package io.moeoracle.cli;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.core.device.DeviceRegistry;
import io.moeoracle.core.select.Explanation;
import io.moeoracle.core.select.MoeKernelSelector;
import io.moeoracle.core.select.Selection;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

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

    /** The --backend value that asks for every backend that supports the layer on the device. */
    static final String ALL_SUPPORTED = "all-supported";

    /**
     * @param root the command
     * @param specs one per backend asked for (each with its requested backend, or none)
     * @param allSupported whether to expand the one spec into every backend that supports it
     * @param deviceOption the --device value
     * @return one selection per backend to time, in the order given (or the selector's order)
     */
    static List<Selection> forBenchmark(MoeOracleCli root, List<MoeLayerSpec> specs, boolean allSupported,
                                        String deviceOption) {
        if (!allSupported) {
            return specs.stream().map(s -> onRealDevice(root, s, deviceOption, "benchmark")).toList();
        }
        Selection first = onRealDevice(root, specs.getFirst(), deviceOption, "benchmark");
        List<String> ids = first.explanation().rows().stream()
                .filter(r -> r.status().isWinner() || r.status() == Explanation.Status.SUPPORTED_NOT_CHOSEN)
                .sorted(Comparator.comparingInt(Explanation.Row::rank)).map(Explanation.Row::providerId).toList();
        List<Selection> all = new ArrayList<>();
        for (String id : ids) {
            MoeLayerSpec s = first.spec().toBuilder().requestedBackend(id).build();
            all.add(onRealDevice(root, s, first.device().id(), "benchmark"));
        }
        return all;
    }
}
