package io.moeoracle.driver.opencl;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.DeviceProbe;
import io.moeoracle.driver.opencl.ffi.OpenClSettings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With the ICD loader present but no vendor registered (OCL_ICD_VENDORS pointing at an empty folder),
 * with no loader at all, or with PoCL registered but not asked for, OpenCL is unavailable and the probe
 * returns a reason instead of throwing. Runs in a fresh JVM because availability is computed once per
 * process.
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

    /** The loader this test JVM was told to use (empty: the system's), so that children use the same. */
    private static String loader() {
        return System.getProperty(OpenClSettings.LIBRARY.name(), "");
    }

    private static String fork(Path vendors, String libraryOverride, String... properties)
            throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "-D" + OpenClSettings.LIBRARY.name() + "=" + libraryOverride));
        for (String p : properties) {
            cmd.add("-D" + p);
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("OCL_ICD_VENDORS", vendors.toString());
        for (String inherited : List.of("OCL_ICD_FILENAMES", OpenClSettings.ALLOW_POCL.env().orElseThrow(), OpenClSettings.XPU_ANY_DEVICE.env().orElseThrow(), OpenClSettings.PLATFORM.env().orElseThrow())) {
            pb.environment().remove(inherited);
        }
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    @Test
    void noRegisteredPlatformGivesAQuietReason(@TempDir Path empty) throws Exception {
        Requires.openClLoader();
        String out = fork(empty, loader());
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

    /**
     * A registered PoCL (here a .icd naming a library that does not exist, so nothing can really load) is
     * not handed to the loader unless asked for: without the setting the reason is PoCL's; with it the
     * loader is called, tries the library and reports no platform.
     */
    @Test
    void registeredPoclIsNotLoadedUnlessAskedFor(@TempDir Path vendors) throws Exception {
        Requires.openClLoader();
        Files.writeString(vendors.resolve("pocl.icd"), "/nonexistent/libpocl-moe-test.so.2\n");

        String refused = fork(vendors, loader());
        assertThat(refused).contains("available=false", "devices=0", "OpenCL not probed", "PoCL",
                "libpocl-moe-test.so.2", OpenClSettings.ALLOW_POCL.name() + "=true", "libjsig");
        assertThat(refused).doesNotContain("CL_PLATFORM_NOT_FOUND_KHR");

        String notForOtherPlatforms = fork(vendors, loader(), "moe.xpu.anyDevice=true", OpenClSettings.PLATFORM.name() + "=NVIDIA");
        assertThat(notForOtherPlatforms).contains("OpenCL not probed");

        for (String ask : List.of(OpenClSettings.ALLOW_POCL.name() + "=true", "moe.xpu.anyDevice=true",
                OpenClSettings.PLATFORM.name() + "=Portable")) {
            String allowed = fork(vendors, loader(), ask);
            assertThat(allowed).as(ask).contains("available=false", "CL_PLATFORM_NOT_FOUND_KHR")
                    .doesNotContain("OpenCL not probed").doesNotContain("Exception in thread");
        }
    }
}
