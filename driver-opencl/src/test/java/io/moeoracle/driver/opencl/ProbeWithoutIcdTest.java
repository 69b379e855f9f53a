package io.moeoracle.driver.opencl;

import io.moeoracle.driver.opencl.ffi.OpenClSettings;
import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.DeviceProbe;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With the ICD loader present but no vendor registered (OCL_ICD_VENDORS pointing at an empty folder),
 * or no loader at all, OpenCL is unavailable and the probe returns a reason instead of throwing. Runs
 * in a fresh JVM because availability is computed once per process.
 */
class ProbeWithoutIcdTest {

    /** Entry point of the forked JVM: prints the probe's result and OpenCl's cause. */
    public static final class Main {
        private Main() {
        }

        /** @param args unused */
        public static void main(String[] args) {
            DeviceProbe.Result r = new OpenClDeviceProbe().probe();
            System.out.println("available=" + OpenCl.isAvailable());
            System.out.println("devices=" + r.devices().size());
            System.out.println("reason=" + r.reason().orElse(""));
        }
    }

    private static String fork(Path emptyVendors, String libraryOverride) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder pb = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED",
                "-D" + OpenClSettings.LIBRARY.name() + "=" + libraryOverride,
                "-cp", System.getProperty("java.class.path"), Main.class.getName());
        pb.environment().put("OCL_ICD_VENDORS", emptyVendors.toString());
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    @Test
    void noRegisteredPlatformGivesAQuietReason(@TempDir Path empty) throws Exception {
        String out = fork(empty, "");
        assertThat(out).contains("available=false", "devices=0").contains("OCL_ICD_VENDORS");
        assertThat(out).doesNotContain("Exception in thread");
    }

    @Test
    void missingLoaderGivesAQuietReasonNamingTheLibrary(@TempDir Path empty) throws Exception {
        String out = fork(empty, "/nonexistent/libOpenCL-moe-test.so.1");
        assertThat(out).contains("available=false", "devices=0")
                .contains("/nonexistent/libOpenCL-moe-test.so.1").contains("ocl-icd-libopencl1");
        assertThat(out).doesNotContain("Exception in thread");
    }
}
