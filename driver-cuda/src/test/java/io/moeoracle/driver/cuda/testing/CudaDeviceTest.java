package io.moeoracle.driver.cuda.testing;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.driver.cuda.CudaDriver;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Base of gpu tests that run kernels on CUDA device 0: {@link #device} is probed (and logged) once
 * per class, and every test gets fresh inputs from its own seeded {@link #rnd}; the seed is logged,
 * and {@code -Dmoe.test.seed=N} replays a run.
 */
public abstract class CudaDeviceTest {
    private static final Logger LOG = LoggerFactory.getLogger(CudaDeviceTest.class);

    /** CUDA device 0, as its probe describes it. */
    protected static DeviceInfo device;

    /** This test's seed. */
    protected long seed;
    /** This test's source of random inputs, seeded with {@link #seed}. */
    protected SplittableRandom rnd;

    /** For subclasses. */
    protected CudaDeviceTest() {
    }

    @BeforeAll
    static void probeCudaDevice() {
        device = CudaDriver.load().device(0).toDeviceInfo();
        LOG.info("device {}", device.describe());
    }

    @BeforeEach
    void drawSeed() {
        seed = Long.getLong("moe.test.seed", System.nanoTime());
        rnd = new SplittableRandom(seed);
        LoggerFactory.getLogger(getClass()).info("seed {} (rerun with -Dmoe.test.seed={})", seed, seed);
    }
}
