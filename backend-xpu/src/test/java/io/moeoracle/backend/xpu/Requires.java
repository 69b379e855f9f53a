package io.moeoracle.backend.xpu;

import io.moeoracle.api.DeviceProbe;
import io.moeoracle.driver.opencl.OpenClDeviceProbe;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Optional system components the xpu tests need (an OpenCL loader with a device: PoCL in CI). Missing
 * one skips the test with a line saying what is missing; with {@code -Dmoe.test.strict=true} (CI) it
 * fails it instead, so that CI cannot pass without running the kernels.
 */
final class Requires {
    /** The switch that turns a skip for a missing component into a failure. */
    static final String STRICT = "moe.test.strict";

    private Requires() {
    }

    /** The OpenCL probe finds at least one device. */
    static void openClDevice() {
        DeviceProbe.Result r = new OpenClDeviceProbe().probe();
        if (r.devices().isEmpty()) {
            missing("an OpenCL device (install ocl-icd-libopencl1 and an OpenCL driver such as pocl-opencl-icd)",
                    r.reason().orElse("the OpenCL probe found none"));
        }
    }

    private static void missing(String what, String why) {
        String caller = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE).walk(s -> s
                .map(StackWalker.StackFrame::getDeclaringClass)
                .filter(c -> c != Requires.class && c != XpuTestSupport.class && !c.getName().startsWith("java.")).findFirst()
                .map(Class::getSimpleName).orElse("?"));
        String message = caller + " needs " + what + ": " + why;
        if (Boolean.getBoolean(STRICT)) {
            Assertions.fail(message + " (-D" + STRICT + "=true: a missing component fails the build)");
        }
        System.err.println("[SKIPPED] " + message);
        Assumptions.abort(message);
    }
}
