package io.moeoracle.driver.opencl;

import io.moeoracle.driver.opencl.ffi.OpenClLibrary;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Optional system components a test needs (the OpenCL ICD loader, a registered driver). Missing one
 * skips the test with a line saying what is missing; with {@code -Dmoe.test.strict=true} (CI) it fails
 * it instead, so that CI cannot pass without running them.
 */
final class Requires {
    /** The switch that turns a skip for a missing component into a failure. */
    static final String STRICT = "moe.test.strict";

    private Requires() {
    }

    /** The ICD loader library (libOpenCL) opens. */
    static void openClLoader() {
        OpenClLibrary.loadFailure().ifPresent(e -> missing("the OpenCL ICD loader", e.getMessage()));
    }

    /** The ICD loader lists at least one platform (PoCL in CI). */
    static void openClPlatform() {
        OpenCl.unavailabilityCause().ifPresent(e -> missing("an OpenCL platform", e.getMessage()));
    }

    private static void missing(String what, String why) {
        String caller = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE).walk(s -> s
                .map(StackWalker.StackFrame::getDeclaringClass).filter(c -> c != Requires.class && !c.getName().startsWith("java.")).findFirst()
                .map(Class::getSimpleName).orElse("?"));
        String message = caller + " needs " + what + ": " + why;
        if (Boolean.getBoolean(STRICT)) {
            Assertions.fail(message + " (-D" + STRICT + "=true: a missing component fails the build)");
        }
        System.err.println("[SKIPPED] " + message);
        Assumptions.abort(message);
    }
}
