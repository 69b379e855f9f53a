package io.moeoracle.cli;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.core.device.DeviceRegistry;
import io.moeoracle.core.select.Explanation;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code moe-oracle explain}: the verdict of every backend, in policy order, and the winner. */
@Command(name = "explain", mixinStandardHelpOptions = true,
        description = {"Shows which backend would run the layer on the device, and why not the others.",
            "Exits with 3 when no installed backend can run it (the rows marked 'not installed' name the jars to add)."})
final class ExplainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @ParentCommand
    MoeOracleCli root;

    @Mixin
    SpecOptions layer;

    @Option(names = "--device", paramLabel = "DEV", defaultValue = "auto",
            description = "auto, a probed device (cpu, cuda:0, ...) or a simulated one (sim:sm_90, ...); default ${DEFAULT-VALUE}")
    String device;

    @Option(names = "--backend", paramLabel = "ID", description = "insist on this backend")
    String backend;

    @Option(names = "--json", description = "print JSON instead of a table")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        MoeLayerSpec s = layer.toSpec(backend);
        DeviceInfo d = DeviceRegistry.discover().resolve(device);
        Explanation e = root.selector().explain(s, d);
        if (json) {
            out.println(e.toJson());
        } else {
            out.print(root.table().render(e));
        }
        out.flush();
        // nothing can run the layer: the same exit code as run and bench, so scripts can tell
        return e.winnerId().isPresent() ? 0 : MoeOracleCli.EXIT_NO_KERNEL;
    }
}
