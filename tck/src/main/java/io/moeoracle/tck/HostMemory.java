package io.moeoracle.tck;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What this process holds in host memory, split in two: the Java heap in use after a collection,
 * and everything resident outside the heap (native allocations, mapped libraries, device staging
 * buffers). Linux only: the resident size comes from {@code /proc/self/status}. The second number
 * is exact only in a JVM whose heap is committed and touched up front ({@code -Xms} equal to
 * {@code -Xmx}, {@code -XX:+AlwaysPreTouch}), as in the kit's forked JVM; elsewhere the first touch
 * of committed heap pages shows up as growth.
 *
 * <p>Before reading the resident size, {@link #measure} asks glibc to return the memory malloc holds
 * free ({@code malloc_trim(0)}). Without it the number counts freed memory that malloc keeps: on an
 * H100 (2026-11-26) 30,000 small forwards after 3,000 warm-up forwards in the kit's forked JVM grew
 * the resident size by 28 MiB (marlin) and 39 MiB (triton) in one step between forward 3,000 and
 * 6,000, then stayed flat within 0.1 MiB to 30,000 (sampled every 3,000: no per-forward leak). The
 * step is the C2 compiler's memory: with {@code -XX:TieredStopAtLevel=1} the growth was 0.4 MiB, with
 * {@code -XX:TrimNativeHeapInterval=200} 1.6 MiB, with {@code MALLOC_ARENA_MAX=2} 6.6 MiB. A real leak
 * is live memory and stays counted after the trim. The trim alone is not enough while C2 compiles
 * (its memory is live then: 12-56 MiB measured mid-compilation), so the kit's child runs C1 only.
 *
 * @param heapUsed heap bytes in use after a full collection
 * @param offHeapResident resident bytes minus the committed heap
 */
public record HostMemory(long heapUsed, long offHeapResident) {

    /** @return whether this platform can be measured ({@code /proc/self/status} exists) */
    public static boolean measurable() {
        return Files.isReadable(Path.of("/proc/self/status"));
    }

    /**
     * Collects garbage and measures.
     *
     * @return the current footprint
     */
    public static HostMemory measure() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        io.moeoracle.tck.ffi.MallocTrim.trim();
        MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        return new HostMemory(heap.getUsed(), residentBytes() - heap.getCommitted());
    }

    /**
     * @param earlier a measurement taken before
     * @return the larger of the heap growth and the off-heap growth since then, in bytes
     */
    public long growthSince(HostMemory earlier) {
        return Math.max(heapUsed - earlier.heapUsed, offHeapResident - earlier.offHeapResident);
    }

    private static long residentBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
            throw new IllegalStateException("/proc/self/status has no VmRSS line");
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/self/status to measure host memory", e);
        }
    }

    @Override
    public String toString() {
        return "heap in use " + (heapUsed >> 10) + " KiB, off-heap resident " + (offHeapResident >> 10) + " KiB";
    }
}
