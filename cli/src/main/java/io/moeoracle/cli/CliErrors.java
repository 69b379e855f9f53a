package io.moeoracle.cli;

import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.error.NativeFailureException;
import io.moeoracle.api.error.UnsupportedSpecException;
import io.moeoracle.api.spec.InvalidSpecException;
import io.moeoracle.core.MoeOracleException;
import java.io.IOException;
import java.io.UncheckedIOException;
import picocli.CommandLine;

/**
 * Turns failures into one paragraph on standard error and an exit code: bad input (a spec that
 * breaks a rule, an unknown backend or device, an unreadable file, a backend's
 * {@code BadInputException} or {@code UnsupportedSpecException}) exits with 2 and no stack trace; a
 * native failure (driver or kernel library) exits with 1 in the driver's words; anything else is a
 * bug and shows its trace when {@code MOE_DEBUG} is set.
 */
final class CliErrors implements CommandLine.IExecutionExceptionHandler {

    @Override
    public int handleExecutionException(Exception ex, CommandLine cl, CommandLine.ParseResult parsed) {
        var err = cl.getErr();
        if (isBadInput(ex)) {
            err.println("moe-oracle " + cl.getCommandName() + ": " + ex.getMessage());
            err.flush();
            return MoeOracleCli.EXIT_BAD_INPUT;
        }
        if (ex instanceof NoKernelException nk) {
            err.println("moe-oracle " + cl.getCommandName() + ": " + nk.getMessage());
            err.flush();
            return MoeOracleCli.EXIT_NO_KERNEL;
        }
        if (ex instanceof NativeFailureException nf) {
            // a driver or native library failed: its own words, no stack trace unless asked
            err.println("moe-oracle " + cl.getCommandName() + ": " + nf.getMessage());
            if (CliSettings.DEBUG.value().isPresent()) {
                ex.printStackTrace(err);
            }
            err.flush();
            return 1;
        }
        err.println("moe-oracle " + cl.getCommandName() + ": internal error: " + ex
                + " (set MOE_DEBUG=1 for the stack trace, and please report it)");
        if (CliSettings.DEBUG.value().isPresent()) {
            ex.printStackTrace(err);
        }
        err.flush();
        return 1;
    }

    static boolean isBadInput(Throwable ex) {
        return ex instanceof InvalidSpecException || ex instanceof MoeOracleException
                || ex instanceof BadInputException || ex instanceof UnsupportedSpecException
                || ex instanceof UsageException || ex instanceof IllegalArgumentException
                || ex instanceof IOException || ex instanceof UncheckedIOException;
    }

    static int onParameterError(CommandLine.ParameterException ex, String[] args) {
        CommandLine cl = ex.getCommandLine();
        var err = cl.getErr();
        err.println("moe-oracle " + cl.getCommandName() + ": " + ex.getMessage()
                + ". See 'moe-oracle " + (cl.getParent() == null ? "" : cl.getCommandName() + " ") + "--help'.");
        err.flush();
        return MoeOracleCli.EXIT_BAD_INPUT;
    }

    /** Wrong or missing command-line options, detected after parsing. */
    static final class UsageException extends RuntimeException {
        UsageException(String message) {
            super(message);
        }
    }

    /** No backend can run the layer: not bad input, but nothing to run either. */
    static final class NoKernelException extends RuntimeException {
        NoKernelException(String message) {
            super(message);
        }
    }
}
