package io.moeoracle.driver.opencl;

import io.moeoracle.driver.opencl.ffi.OpenClSettings;
import java.util.function.Supplier;

/**
 * Runs OpenCL work that may enter a vendor compiler (program builds, kernel creation) on a thread
 * with a large stack. NVIDIA's compiler in libnvidia-opencl recurses deeply and dies with a bare
 * SIGSEGV, no JVM crash report, on the small stacks of Java threads ({@code -Xss}). Calls made from
 * such a thread already run inline.
 */
public final class LargeStack {
    private static final ThreadLocal<Boolean> INSIDE = ThreadLocal.withInitial(() -> false);

    private LargeStack() {
    }

    /**
     * @param name the thread's name
     * @param work what to run
     * @param <T> the result type
     * @return the result of {@code work}
     */
    public static <T> T call(String name, Supplier<T> work) {
        if (INSIDE.get()) {
            return work.get();
        }
        // OpenClSettings.BUILD_STACK_BYTES: default 512 MiB, reserved lazily by the OS
        long stack = OpenClSettings.BUILD_STACK_BYTES.parseLong(OpenClSettings.BUILD_STACK_BYTES.valueOrDefault(),
                1L << 20, 1L << 34);
        Object[] result = new Object[1];
        Throwable[] failure = new Throwable[1];
        Thread t = new Thread(null, () -> {
            INSIDE.set(true);
            try {
                result[0] = work.get();
            } catch (RuntimeException | Error e) {
                failure[0] = e;
            }
        }, name, stack);
        t.setDaemon(true);
        t.start();
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (failure[0] instanceof RuntimeException r) {
            r.addSuppressed(new IllegalStateException("(thrown on the large-stack thread " + name + ")"));
            throw r;
        }
        if (failure[0] instanceof Error e) {
            throw e;
        }
        @SuppressWarnings("unchecked")
        T r = (T) result[0];
        return r;
    }
}
