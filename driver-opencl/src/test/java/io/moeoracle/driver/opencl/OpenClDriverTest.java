package io.moeoracle.driver.opencl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.DeviceProbe;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.ServiceLoader;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs on whatever OpenCL the host has (PoCL in CI, allowed by the POM's moe.opencl.allowPocl); skipped
 * without one, failed under -Dmoe.test.strict=true.
 */
class OpenClDriverTest {
    private static final Logger LOG = LoggerFactory.getLogger(OpenClDriverTest.class);
    private static final String SAXPY = """
            __kernel void saxpy(__global const float* x, __global float* y, float a, int n) {
                int i = get_global_id(0);
                if (i < n) y[i] = a * x[i] + y[i];
            }
            """;

    @BeforeEach // per test, so that a skip is counted for each (surefire does not count a skipped class)
    void requireOpenCl() {
        Requires.openClPlatform();
        OpenCl.ensureAvailability();
    }

    private static ClDevice firstDevice() {
        List<ClDevice> devices = OpenCl.devices();
        assertThat(devices).as("OpenCL devices").isNotEmpty();
        return devices.getFirst();
    }

    @Test
    void probeListsDevicesThroughServiceLoader() {
        DeviceProbe probe = ServiceLoader.load(DeviceProbe.class).stream().map(ServiceLoader.Provider::get)
                .filter(p -> p.id().equals("opencl")).findFirst().orElseThrow();
        DeviceProbe.Result r = probe.probe();
        LOG.info("opencl probe: {}", r);
        assertThat(r.reason()).isEmpty();
        assertThat(r.devices()).isNotEmpty().allSatisfy(d -> {
            assertThat(d.id()).startsWith("opencl:");
            assertThat(d.features()).contains(DeviceClassifier.OPENCL_FEATURE);
            assertThat(d.simulated()).isFalse();
            // the platform and the driver's own version, for the measured policy's cache key
            assertThat(d.driverVersion()).hasValueSatisfying(v -> assertThat(v).contains(", driver "));
        });
        assertThat(OpenCl.device(r.devices().getFirst().id())).isPresent();
    }

    @Test
    void saxpyRunsAndReportsProfilingTimes(@TempDir Path cacheDir) {
        ClDevice device = firstDevice();
        int n = 1000;
        Random rnd = new Random();
        float a = 0.5f + rnd.nextFloat();
        float[] x = new float[n];
        float[] y = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = rnd.nextFloat() - 0.5f;
            y[i] = rnd.nextFloat() - 0.5f;
        }
        try (ClContext ctx = ClContext.create(device); ClQueue q = ctx.createQueue();
             ClBuffer bx = ctx.createBuffer(4L * n); ClBuffer by = ctx.createBuffer(4L * n);
             Arena arena = Arena.ofConfined()) {
            ProgramCache cache = ProgramCache.in(cacheDir);
            ClProgram p = ctx.buildProgram(SAXPY, "-cl-std=CL1.2", cache);
            assertThat(p.fromCache()).isFalse();
            ClKernel k = p.kernel("saxpy");
            q.write(bx, 0, MemorySegment.ofArray(x));
            q.write(by, 0, MemorySegment.ofArray(y));
            k.arg(0, bx).arg(1, by).arg(2, a).arg(3, n);
            try (ClEvent ev = q.launchTimed(k, new long[] {1024}, new long[] {64})) {
                assertThat(ev.durationNanos()).isGreaterThanOrEqualTo(0);
                assertThat(ev.endNanos()).isGreaterThanOrEqualTo(ev.startNanos());
            }
            MemorySegment out = arena.allocate(4L * n);
            q.read(by, 0, out);
            for (int i = 0; i < n; i++) {
                assertThat(out.getAtIndex(ValueLayout.JAVA_FLOAT, i)).isCloseTo(a * x[i] + y[i], org.assertj.core.data.Offset.offset(1e-6f));
            }
            k.close();
            p.close();
            // second build of the same source hits the on-disk cache
            try (ClProgram again = ctx.buildProgram(SAXPY, "-cl-std=CL1.2", cache)) {
                assertThat(again.fromCache()).isTrue();
                again.kernel("saxpy").close();
            }
            assertThat(cacheDir.toFile().list()).hasSize(1);
        }
    }

    @Test
    void brokenSourceThrowsWithTheBuildLog() {
        ClDevice device = firstDevice();
        try (ClContext ctx = ClContext.create(device)) {
            assertThatThrownBy(() -> ctx.buildProgram("__kernel void k(__global float* x) { x[0] = undeclared_thing; }",
                    "", ProgramCache.disabled()))
                    .isInstanceOfSatisfying(ProgramBuildException.class, e -> {
                        assertThat(e.errorName()).isEqualTo("CL_BUILD_PROGRAM_FAILURE");
                        assertThat(e.buildLog()).contains("undeclared_thing");
                        assertThat(e.getMessage()).contains("clBuildProgram").contains("undeclared_thing");
                    });
        }
    }

    @Test
    void badCallNamesTheCallAndTheError() {
        ClDevice device = firstDevice();
        try (ClContext ctx = ClContext.create(device); ClProgram p = ctx.buildProgram(SAXPY, "", ProgramCache.disabled())) {
            assertThatThrownBy(() -> p.kernel("no_such_kernel"))
                    .isInstanceOfSatisfying(OpenClException.class, e -> {
                        assertThat(e.errorName()).isEqualTo("CL_INVALID_KERNEL_NAME");
                        assertThat(e.getMessage()).contains("clCreateKernel(name=no_such_kernel)");
                    });
            try (ClKernel k = p.kernel("saxpy")) {
                assertThatThrownBy(() -> k.arg(9, 1)).isInstanceOf(OpenClException.class)
                        .hasMessageContaining("CL_INVALID_ARG_INDEX").hasMessageContaining("index=9");
            }
        }
    }

    @Test
    void corruptCacheEntryFallsBackToSource(@TempDir Path cacheDir) throws Exception {
        ClDevice device = firstDevice();
        ProgramCache cache = ProgramCache.in(cacheDir);
        Files.write(cacheDir.resolve(cache.key(device, SAXPY, "") + ".clbin"), new byte[] {1, 2, 3, 4});
        try (ClContext ctx = ClContext.create(device); ClProgram p = ctx.buildProgram(SAXPY, "", cache)) {
            assertThat(p.fromCache()).isFalse();
            p.kernel("saxpy").close();
        }
    }
}
