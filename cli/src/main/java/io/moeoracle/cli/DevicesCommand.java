package io.moeoracle.cli;

import io.moeoracle.api.DeviceProbe;
import io.moeoracle.api.device.DeviceAddress;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.core.device.DeviceRegistry;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code moe-oracle devices}: what each probe found, or why it found nothing. */
@Command(name = "devices", mixinStandardHelpOptions = true,
        description = "Lists the devices each probe found on this host, or why it found none.")
final class DevicesCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        var registry = DeviceRegistry.discover();
        for (DeviceProbe.Result r : registry.probeAll()) {
            out.printf("%s:%n", r.probeId());
            for (DeviceInfo d : r.devices()) {
                out.printf("  %-10s %-16s %s, %d compute units, %.1f GiB%s%n", d.id(), d.arch(), d.name(),
                        d.computeUnits(), d.memoryBytes() / (double) (1L << 30),
                        d.features().isEmpty() ? "" : ", features " + String.join(" ", new java.util.TreeSet<>(d.features())));
                if (d.driverVersion().isPresent()) {
                    out.printf("  %-10s driver %s%n", "", d.driverVersion().get());
                }
                if (!d.aliases().isEmpty()) {
                    out.printf("  %-10s the same hardware as %s%n", "",
                            String.join(", ", d.aliases().stream().map(DeviceAddress::id).toList()));
                }
            }
            r.reason().ifPresent(reason -> out.printf("  %s%s%n", r.devices().isEmpty() ? "none: " : "note: ", reason));
        }
        out.printf("simulated (for --device): %s%n", String.join(", ", registry.simulated().deviceIds()));
        registry.simulated().problems().forEach(p -> out.printf("  skipped: %s%n", p));
        return 0;
    }
}
