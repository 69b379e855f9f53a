package io.moeoracle.cli;

import io.moeoracle.core.discovery.ProviderRegistry;
import io.moeoracle.api.MoeKernel;
import io.moeoracle.core.select.MoeKernelSelector;
import io.moeoracle.core.select.Selection;
import io.moeoracle.core.select.SelectionPolicy;
import io.moeoracle.core.select.SelectionSettings;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code moe-oracle} command. */
@Command(name = "moe-oracle", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Chooses, explains and runs Mixture-of-Experts kernels for a layer and a device.",
        subcommands = {DevicesCommand.class, ExplainCommand.class, RunCommand.class, BenchCommand.class, PlotCommand.class,
                CommandLine.HelpCommand.class})
public final class MoeOracleCli implements Runnable {

    /** Exit code for bad input: an invalid spec, an unknown backend or device, a bad file. */
    public static final int EXIT_BAD_INPUT = 2;
    /** Exit code when no backend can run the layer. */
    public static final int EXIT_NO_KERNEL = 3;

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--policy", paramLabel = "NAME", scope = CommandLine.ScopeType.INHERIT,
            description = "selection policy: default (priorities) or measured (times every candidate on this device;"
                    + " cached, see moe.measure.*); default: moe.policy, else default")
    String policy;

    private final Plugins plugins;
    private MoeKernelSelector selector;

    private MoeOracleCli(Plugins plugins) {
        this.plugins = plugins;
    }

    /**
     * @param args command-line arguments
     */
    public static void main(String[] args) {
        System.exit(execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /**
     * Runs the command with the given streams (used by tests).
     *
     * @param args arguments
     * @param out standard output
     * @param err standard error
     * @return the exit code
     */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", CliSettings.LOG.valueOrDefault());
        }
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
        Plugins plugins = Plugins.load(Plugins.configuredFolders(), MoeOracleCli.class.getClassLoader());
        CommandLine cl = new CommandLine(new MoeOracleCli(plugins));
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler(new CliErrors());
        cl.setParameterExceptionHandler(CliErrors::onParameterError);
        // device probes and anything else found through the context loader see the plugins too
        Thread t = Thread.currentThread();
        ClassLoader before = t.getContextClassLoader();
        t.setContextClassLoader(plugins.loader());
        try {
            return cl.execute(args);
        } finally {
            t.setContextClassLoader(before);
        }
    }

    /** @return the plugins of this run */
    Plugins plugins() {
        return plugins;
    }

    /** @return the selector over the built-in backends and the plugins, made once per run */
    MoeKernelSelector selector() {
        if (selector == null) {
            ProviderRegistry registry = plugins.addTo(ProviderRegistry.builder().addDefaultSources()).build();
            SelectionPolicy p = policy == null ? SelectionPolicy.fromSystem() : SelectionPolicy.named(policy);
            selector = new MoeKernelSelector(registry, p, SelectionSettings.fromSystem());
        }
        return selector;
    }

    /**
     * @param selection the selector's answer
     * @return its kernel; under the measured policy, one that runs each call on its bucket's winner
     */
    MoeKernel createKernel(Selection selection) {
        return selector().policy() instanceof io.moeoracle.measure.MeasuredSelectionPolicy m
                ? m.createKernel(selection) : selection.createKernel();
    }

    /** @return a table renderer for this terminal, showing plugin jars by path */
    ExplanationTable table() {
        return new ExplanationTable(ExplanationTable.terminalWidth(), plugins::origin);
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
