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
