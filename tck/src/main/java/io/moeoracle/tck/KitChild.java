package io.moeoracle.tck;

import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.api.spec.MoeLayerSpec;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.Constructor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * Entry point of the kit's forked JVM (not API): runs checks that may crash the process, and
 * checks that need a process where nothing has loaded the backend's native library yet. Reports
 * one {@value #TAG} line per event on standard output, read by {@link KitFork}.
 */
public final class KitChild {
    /** Prefix of the report lines. */
    static final String TAG = "@@moe-kit ";
    /** Report of a child whose device or an assumption aborted the check: {@code aborted <reason>}. */
    static final String ABORTED = "aborted ";

    private KitChild() {
    }

    /**
     * @param args {@code bad-input <kit class> <case>...} or
     *     {@code simulated <provider class> <seed> <draws> <twin vendor> <twin arch> <twin features>}
     * @throws Exception when the kit or provider cannot be instantiated
     */
    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true,
                StandardCharsets.UTF_8);
        try {
            switch (args[0]) {
                case "bad-input" -> badInput(out, args[1], Arrays.copyOfRange(args, 2, args.length));
                case "simulated" -> simulated(out, args);
                case "resources" -> resources(out, args[1], args[2], args.length > 3 ? Integer.parseInt(args[3]) : -1);
                default -> throw new IllegalArgumentException("unknown task " + args[0]);
            }
        } catch (org.opentest4j.TestAbortedException e) {
            // the author's device() or an assumption said this machine cannot run the check (no driver):
            // the parent turns it into the same skip instead of a failed test
            out.println(TAG + ABORTED + oneLine(e));
        }
        out.flush();
    }

    private static void badInput(PrintStream out, String kitClass, String[] cases) throws Exception {
        MoeKernelCompatibilityKit kit = kit(kitClass);
        MoeKernelProvider provider = kit.provider();
        DeviceInfo device = kit.device();
        MoeLayerSpec spec = kit.firstRunnableSpec(provider, device);
        double tolerance = kit.toleranceFor(provider, spec, device);
        for (String name : cases) {
            BadInputCase bad = BadInputCase.valueOf(name);
            out.println(TAG + "start " + name);
            try {
                bad.run(provider, device, spec, tolerance);
                out.println(TAG + "pass " + name);
            } catch (Throwable e) {
                out.println(TAG + "fail " + name + " " + oneLine(e));
            }
        }
    }

    private static MoeKernelCompatibilityKit kit(String kitClass) throws Exception {
        Constructor<?> c = Class.forName(kitClass).getDeclaredConstructor();
        c.setAccessible(true);
        return (MoeKernelCompatibilityKit) c.newInstance();
    }

    /**
     * Runs create/prepare/close cycles or forwards between two measurements of a pre-touched heap.
     * A fourth argument (diagnosis, run by hand) overrides the count and prints a sample every tenth of it.
     */
    private static void resources(PrintStream out, String kitClass, String what, int count) throws Exception {
        MoeKernelCompatibilityKit kit = kit(kitClass);
        MoeKernelProvider p = kit.provider();
        DeviceInfo d = kit.device();
        MoeLayerSpec spec = kit.firstRunnableSpec(p, d);
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared()) {
            io.moeoracle.api.tensor.MoeWeights w = io.moeoracle.reference.RandomMoe.weights(spec, 21, arena);
            Runnable step;
            int n;
            io.moeoracle.api.MoeKernel kernel = null;
            if (what.equals("cycles")) {
                n = kit.lifeCycles();
                step = () -> {
                    try (io.moeoracle.api.MoeKernel k = p.create(spec, d)) {
                        k.prepare(w);
                    }
                };
            } else {
                n = count > 0 ? count : kit.forwards();
                io.moeoracle.api.MoeKernel k = p.create(spec, d);
                kernel = k;
                k.prepare(w);
                KitForward.Call in = KitForward.call(spec, 1, 23, true, false, arena);
                io.moeoracle.api.tensor.HostTensor o = io.moeoracle.api.tensor.HostTensor.allocate(arena,
                        io.moeoracle.api.tensor.DType.F32, in.hidden().shape());
                step = switch (in) {
                    case KitForward.Inputs s -> () -> k.forward(s.hidden(), s.routing(), o);
                    case KitForward.Batched b -> () -> k.forwardBatched(b.hidden(), b.counts(), o);
                };
            }
            for (int i = 0; i < Math.max(20, n / 10); i++) {
                step.run();
            }
            java.util.OptionalLong deviceBefore = kit.deviceMemoryInUse();
            HostMemory before = HostMemory.measure();
            for (int i = 0; i < n; i++) {
                step.run();
                if (count > 0 && (i + 1) % Math.max(1, n / 10) == 0) {
                    out.println(TAG + "sample " + (i + 1) + " " + HostMemory.measure().growthSince(before));
                }
            }
            HostMemory after = HostMemory.measure();
            java.util.OptionalLong deviceAfter = kit.deviceMemoryInUse();
            if (deviceBefore.isPresent() && deviceAfter.isPresent()) {
                out.println(TAG + "device " + (deviceAfter.getAsLong() - deviceBefore.getAsLong()));
            }
            if (kernel != null) {
                kernel.close();
            }
            out.println(TAG + "growth " + after.growthSince(before) + " " + n + " " + spec.describe().replace(' ', '_')
                    + " before:_" + before.toString().replace(' ', '_') + ";_after:_" + after.toString().replace(' ', '_'));
        }
    }

    private static void simulated(PrintStream out, String[] args) throws Exception {
        Set<String> before = nativeLibraries();
        Constructor<?> c = Class.forName(args[1]).getDeclaredConstructor();
        c.setAccessible(true);
        MoeKernelProvider provider = (MoeKernelProvider) c.newInstance();
        SplittableRandom rnd = new SplittableRandom(Long.parseLong(args[2]));
        int draws = Integer.parseInt(args[3]);
        Set<String> features = args[6].isEmpty() ? Set.of() : Set.of(args[6].split(","));
        DeviceInfo twin = io.moeoracle.api.device.SimulatedDeviceCatalogue.device("kit-twin", Vendor.valueOf(args[4]),
                args[5], "kit twin", 8, 16L << 30, features);
        List<DeviceInfo> devices = KitSpecs.simulated(twin);
        int verdicts = 0;
        for (int i = 0; i < draws; i++) {
            MoeLayerSpec spec = KitSpecs.draw(rnd);
            for (DeviceInfo d : devices) {
                SupportVerdict v = provider.isSupported(spec, d);
                if (v == null) {
                    out.println(TAG + "fail verdict null for " + spec.describe() + " on " + d.id());
                    return;
                }
                if (v.isSupported()) {
                    provider.priority(spec, d);
                    provider.activationType(spec, d);
                }
                verdicts++;
            }
        }
        Set<String> loaded = new TreeSet<>(nativeLibraries());
        loaded.removeAll(before);
        out.println(TAG + "verdicts " + verdicts);
        out.println(TAG + "loaded " + String.join(",", loaded));
    }

    /** @return shared objects mapped into this process, outside the JDK's own folder */
    static Set<String> nativeLibraries() throws IOException {
        String jdk = Path.of(System.getProperty("java.home")).toRealPath().toString();
        Set<String> libs = new TreeSet<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
            int slash = line.indexOf('/');
            if (slash >= 0) {
                String file = line.substring(slash).strip();
                if (file.contains(".so") && !file.startsWith(jdk)) {
                    libs.add(file);
                }
            }
        }
        return libs;
    }

    private static String oneLine(Throwable e) {
        StringBuilder b = new StringBuilder(String.valueOf(e));
        for (Throwable c = e.getCause(); c != null && c != e; c = c.getCause()) {
            b.append(" <- caused by ").append(c);
        }
        return b.toString().replace('\n', ' ').replace('\r', ' ');
    }
}
