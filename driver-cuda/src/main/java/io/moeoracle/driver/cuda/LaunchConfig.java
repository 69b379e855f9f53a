package io.moeoracle.driver.cuda;

/**
 * The shape of one launch: grid and block extents and dynamic shared memory.
 *
 * @param gridX blocks in x, ≥ 1
 * @param gridY blocks in y, 1 .. 65535
 * @param gridZ blocks in z, 1 .. 65535
 * @param blockX threads in x, ≥ 1
 * @param blockY threads in y, ≥ 1
 * @param blockZ threads in z, ≥ 1 (at most 64)
 * @param sharedMemoryBytes dynamic shared memory per block, ≥ 0
 */
public record LaunchConfig(int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ, int sharedMemoryBytes) {

    /** Rejects extents the driver would reject, before any launch. */
    public LaunchConfig {
        if (gridX < 1 || gridY < 1 || gridZ < 1 || gridY > 65535 || gridZ > 65535) {
            throw new IllegalArgumentException("grid (" + gridX + ", " + gridY + ", " + gridZ
                    + ") must be ≥ 1 in each extent, with y and z ≤ 65535");
        }
        if (blockX < 1 || blockY < 1 || blockZ < 1 || blockZ > 64 || (long) blockX * blockY * blockZ > 1024) {
            throw new IllegalArgumentException("block (" + blockX + ", " + blockY + ", " + blockZ
                    + ") must be ≥ 1 in each extent, z ≤ 64, and at most 1024 threads in all");
        }
        if (sharedMemoryBytes < 0) {
            throw new IllegalArgumentException("dynamic shared memory must be ≥ 0, got " + sharedMemoryBytes);
        }
    }

    /**
     * @param gridX blocks
     * @param blockX threads per block
     * @return a one-dimensional launch without dynamic shared memory
     */
    public static LaunchConfig of(int gridX, int blockX) {
        return new LaunchConfig(gridX, 1, 1, blockX, 1, 1, 0);
    }

    /**
     * @param gridX blocks in x @param gridY blocks in y @param gridZ blocks in z
     * @param blockX threads in x @param blockY threads in y @param blockZ threads in z
     * @return a launch without dynamic shared memory
     */
    public static LaunchConfig of(int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ) {
        return new LaunchConfig(gridX, gridY, gridZ, blockX, blockY, blockZ, 0);
    }

    /**
     * A one-dimensional launch covering {@code n} items with {@code blockX} threads a block.
     *
     * @param n items, ≥ 1
     * @param blockX threads per block
     * @return enough blocks for n
     */
    public static LaunchConfig covering(long n, int blockX) {
        long blocks = Math.max(1, (n + blockX - 1) / blockX);
        if (blocks > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(n + " items need " + blocks + " blocks of " + blockX + ", more than a grid holds");
        }
        return of((int) blocks, blockX);
    }

    /**
     * @param bytes dynamic shared memory per block
     * @return this launch with that much dynamic shared memory
     */
    public LaunchConfig withSharedMemory(int bytes) {
        return new LaunchConfig(gridX, gridY, gridZ, blockX, blockY, blockZ, bytes);
    }

    @Override
    public String toString() {
        return "grid=(" + gridX + "," + gridY + "," + gridZ + "), block=(" + blockX + "," + blockY + "," + blockZ
                + "), sharedMemBytes=" + sharedMemoryBytes;
    }
}
