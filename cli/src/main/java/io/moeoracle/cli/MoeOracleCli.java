package io.moeoracle.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code moe-oracle} command. */
@Command(name = "moe-oracle", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Chooses, explains and runs Mixture-of-Experts kernels for a layer and a device.",
        subcommands = {DevicesCommand.class, ExplainCommand.class, RunCommand.class, BenchCommand.class,
                CommandLine.HelpCommand.class})
public final class MoeOracleCli implements Runnable {

    /** Exit code for bad input: an invalid spec, an unknown backend or device, a bad file. */
    public static final int EXIT_BAD_INPUT = 2;
    /** Exit code when no backend can run the layer. */
    public static final int EXIT_NO_KERNEL = 3;

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

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
        CommandLine cl = new CommandLine(new MoeOracleCli());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler(new CliErrors());
        cl.setParameterExceptionHandler(CliErrors::onParameterError);
        return cl.execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
