package io.moeoracle.driver.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.DeviceProbe;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.driver.cuda.testing.CudaTestModule;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs on a machine with an NVIDIA GPU (tag gpu; excluded from ordinary builds). */
@Tag("gpu")
class CudaGpuTest {
    private static final Logger LOG = LoggerFactory.getLogger(CudaGpuTest.class);

    private static CudaTestModule gpu;
    private static CudaContext context;
    private static CudaModule module;
    private Random rnd;

    @BeforeAll
    static void open() throws IOException {
        CudaDriver driver = CudaDriver.load();
        gpu = CudaTestModule.load(CudaModuleImageKindTest.resource("test_kernels.fatbin"));
        context = gpu.context();
        module = gpu.module();
        LOG.info("{} on {} ({})", driver, context.device().name(), context.device().arch());
    }

    @AfterAll
    static void close() {
        if (gpu != null) {
            gpu.close();
        }
    }

    @BeforeEach
    void seed() {
        long seed = System.nanoTime();
        LOG.info("seed {}", seed);
        rnd = new Random(seed);
        context.setCurrent(); // JUnit may run methods on another thread than @BeforeAll
    }

    private float[] randomFloats(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }

    @Test
    void probe_describes_the_gpu() {
        DeviceProbe.Result result = new CudaDeviceProbe().probe();

        assertThat(result.reason()).isEmpty();
        assertThat(result.devices()).isNotEmpty();
        DeviceInfo d = result.devices().getFirst();
        assertThat(d.id()).isEqualTo("cuda:0");
        assertThat(d.vendor()).isEqualTo(Vendor.NVIDIA);
        assertThat(d.arch()).matches("sm_\\d{2,3}");
        assertThat(d.name()).isNotBlank();
        assertThat(d.computeUnits()).isPositive();
        assertThat(d.memoryBytes()).isGreaterThan(1L << 30);
        assertThat(d.smVersion()).isPresent();
        assertThat(d.driverVersion()).hasValueSatisfying(v -> assertThat(v)
                .startsWith("CUDA " + CudaDriver.load().versionString() + " (cuDriverGetVersion "));
        if (d.smVersion().getAsInt() >= 80) {
            assertThat(d.features()).contains("bf16");
        }
        LOG.info("probe: {} {} SMs {} GiB features {}", d.describe(), d.computeUnits(), d.memoryBytes() >> 30, d.features());
    }

    @Test
    void saxpy_from_the_fatbin_computes_on_the_device() {
        int n = 100_000 + rnd.nextInt(1000);
        float a = (float) rnd.nextGaussian();
        float[] x = randomFloats(n);
        float[] y = randomFloats(n);
        CudaFunction saxpy = module.function("saxpy");
        assertThat(saxpy.numRegisters()).isPositive();
        assertThat(saxpy.maxThreadsPerBlock()).isGreaterThanOrEqualTo(256);
        try (Arena arena = Arena.ofConfined();
             DeviceBuffer dx = context.allocate(4L * n);
             DeviceBuffer dy = context.allocate(4L * n);
             CudaStream stream = context.createStream()) {
            dx.copyFromHost(MemorySegment.ofArray(x));
            dy.copyFromHost(MemorySegment.ofArray(y));
            KernelArgs args = KernelArgs.builder().f32(a).pointer(dx).pointer(dy).i32(n).build(arena);

            saxpy.launch(LaunchConfig.covering(n, 256), stream, args);
            stream.synchronize();

            float[] got = dy.toFloatArray();
            for (int i = 0; i < n; i++) {
                float want = Math.fma(a, x[i], y[i]);
                assertThat(got[i]).as("y[%d]", i).isCloseTo(want, org.assertj.core.data.Offset.offset(1e-5f * (1 + Math.abs(want))));
            }
        }
    }

    @Test
    void ptx_text_is_compiled_by_the_driver() throws IOException {
        try (CudaModule ptx = context.loadModule(CudaModuleImageKindTest.resource("test_kernels.ptx"))) {
            assertThat(ptx.function("empty_kernel").handle().address()).isNotZero();
        }
    }

    @Test
    void bad_ptx_fails_with_the_jit_error_log() {
        String ptx = ".version 8.0\n.target sm_80\n.address_size 64\n"
                + ".visible .entry broken()\n{\n  mov.u32 %r1, 1;\n  this_is_not_an_instruction;\n  ret;\n}\n";

        assertThatThrownBy(() -> CudaModule.loadPtx(context, ptx))
                .isInstanceOfSatisfying(CudaException.class, e -> {
                    assertThat(e.call()).isEqualTo("cuModuleLoadDataEx");
                    assertThat(e.errorName()).isEqualTo("CUDA_ERROR_INVALID_PTX");
                    LOG.info("bad PTX message: {}", e.getMessage());
                })
                .hasMessageContaining("JIT error log:")
                .hasMessageContaining("ptxas");
    }

    @Test
    void an_unknown_kernel_name_is_named() {
        assertThatThrownBy(() -> module.function("no_such_kernel"))
                .isInstanceOfSatisfying(CudaException.class, e -> assertThat(e.code()).isEqualTo(CudaException.NOT_FOUND))
                .hasMessageContaining("no kernel named \"no_such_kernel\"");
    }

    @Test
    void allocating_a_petabyte_fails_with_the_drivers_error_text() {
        assertThatThrownBy(() -> context.allocate(1L << 50))
                .isInstanceOfSatisfying(CudaException.class, e -> {
                    assertThat(e.code()).isEqualTo(CudaException.OUT_OF_MEMORY);
                    assertThat(e.errorText()).isEqualTo("out of memory");
                    LOG.info("1 PB message: {}", e.getMessage());
                })
                .hasMessageStartingWith("cuMemAlloc_v2(bytesize=1125899906842624 (1048576.0 GiB)) failed: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory");
    }

    @Test
    void graph_replays_the_captured_launches() {
        int n = 4096 + rnd.nextInt(4096);
        float[] v = randomFloats(n);
        float delta = 0.25f + rnd.nextInt(4);
        CudaFunction add = module.function("add_scalar");
        try (Arena arena = Arena.ofConfined();
             DeviceBuffer dv = context.allocate(4L * n);
             CudaStream stream = context.createStream()) {
            dv.copyFromHost(MemorySegment.ofArray(v));
            KernelLauncher launcher = new KernelLauncher(add, LaunchConfig.covering(n, 128),
                    KernelArgs.builder().pointer(dv).f32(delta).i64(n).build(arena));

            try (CudaGraph graph = CudaGraph.capture(stream, s -> {
                launcher.launch(s);
                launcher.launch(s);
                launcher.launch(s);
            })) {
                stream.synchronize();
                assertThat(dv.toFloatArray()[0]).as("capture must not run the work").isEqualTo(v[0]);
                for (int r = 0; r < 5; r++) {
                    graph.launch(stream);
                }
                stream.synchronize();
            }
            float[] got = dv.toFloatArray();
            for (int i = 0; i < n; i++) {
                assertThat(got[i]).isCloseTo(v[i] + 15 * delta, org.assertj.core.data.Offset.offset(1e-4f * (1 + Math.abs(v[i]))));
            }
        }
    }

    @Test
    void a_failure_inside_capture_ends_the_capture() {
        try (CudaStream stream = context.createStream()) {
            assertThatThrownBy(() -> CudaGraph.capture(stream, s -> {
                throw new IllegalStateException("planted");
            })).hasMessage("planted");
            assertThat(stream.isIdle()).isTrue(); // the stream is usable again
        }
    }

    @Test
    void events_time_work_on_a_stream() {
        long n = 64L << 20;
        try (DeviceBuffer a = context.allocate(n); DeviceBuffer b = context.allocate(n);
             CudaStream stream = context.createStream();
             CudaEvent start = context.createEvent(); CudaEvent end = context.createEvent()) {
            a.fillAsync((byte) 0x5A, stream);
            start.record(stream);
            for (int i = 0; i < 10; i++) {
                b.copyFromAsync(a, stream);
            }
            end.record(stream);
            float ms = end.millisSince(start);
            assertThat(end.isComplete()).isTrue();
            assertThat(ms).isPositive().isLessThan(1000f);
            LOG.info("10 x 64 MiB device copies: {} ms, {} GB/s", ms, 2.0 * 10 * n / (ms * 1e6));
            byte[] back = b.slice(n - 16, 16).toByteArray();
            assertThat(back).containsOnly((byte) 0x5A);
        }
    }

    @Test
    void dynamic_shared_memory_above_48k_needs_the_raised_limit() {
        int floats = 24 * 1024; // 96 KiB
        float[] in = randomFloats(floats);
        CudaFunction f = module.function("smem_roundtrip");
        try (Arena arena = Arena.ofConfined();
             DeviceBuffer din = context.allocate(4L * floats);
             DeviceBuffer dout = context.allocate(4L * floats);
             CudaStream stream = context.createStream()) {
            din.copyFromHost(MemorySegment.ofArray(in));
            KernelArgs args = KernelArgs.builder().pointer(din).pointer(dout).i32(floats).build(arena);
            LaunchConfig cfg = LaunchConfig.of(1, 256).withSharedMemory(4 * floats);
            f.setMaxDynamicSharedMemory(48 * 1024); // the default, whatever other tests raised it to

            assertThatThrownBy(() -> f.launch(cfg, stream, args)).isInstanceOf(CudaException.class)
                    .hasMessageContaining("cuLaunchKernel(f=smem_roundtrip");
            assertThatThrownBy(() -> f.setMaxDynamicSharedMemory(context.device().maxSharedMemoryPerBlockOptin() + 1))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("opt-in limit");

            f.setMaxDynamicSharedMemory(4 * floats);
            assertThat(f.attribute(FunctionAttribute.MAX_DYNAMIC_SHARED_SIZE_BYTES)).isEqualTo(4 * floats);
            f.launch(cfg, stream, args);
            stream.synchronize();
            float[] out = dout.toFloatArray();
            for (int i = 0; i < floats; i++) {
                assertThat(out[i]).isEqualTo(in[floats - 1 - i]);
            }
        }
    }

    @Test
    void async_copies_through_pinned_memory_round_trip() {
        int n = 1 << 20;
        try (PinnedMemory host = PinnedMemory.allocate(context, 4L * n);
             PinnedMemory back = PinnedMemory.allocate(context, 4L * n);
             DeviceBuffer dev = context.allocate(4L * n);
             DeviceBuffer dev2 = context.allocate(4L * n);
             CudaStream stream = context.createStream()) {
            MemorySegment h = host.segment();
            for (int i = 0; i < n; i++) {
                h.setAtIndex(ValueLayout.JAVA_INT, i, rnd.nextInt());
            }
            back.segment().fill((byte) 0);
            dev.copyFromHostAsync(h, stream);
            dev2.copyFromAsync(dev, stream);
            dev2.copyToHostAsync(back.segment(), stream);
            stream.synchronize();
            assertThat(back.segment().mismatch(h)).isEqualTo(-1L);
        }
    }

    @Test
    void cuda_tensors_copy_and_check_their_shape() {
        try (Arena arena = Arena.ofConfined();
             CudaTensor t = CudaTensor.allocate(context, DType.F32, 3, 5)) {
            HostTensor src = HostTensor.allocate(arena, DType.F32, 15);
            for (int i = 0; i < 15; i++) {
                src.data().setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rnd.nextGaussian());
            }
            HostTensor dst = HostTensor.allocate(arena, DType.F32, 3, 5);
            dst.data().fill((byte) 0xFF); // NaN

            t.copyFrom(src);
            t.copyTo(dst);

            assertThat(dst.data().mismatch(src.data())).isEqualTo(-1L);
            assertThat(t.deviceId()).isEqualTo("cuda:0");
            assertThatThrownBy(() -> t.copyFrom(HostTensor.allocate(arena, DType.BF16, 3, 5)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does not match");
        }
    }

    @Test
    void calls_without_a_current_context_say_what_to_do() throws InterruptedException {
        Throwable[] seen = new Throwable[1];
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                io.moeoracle.driver.cuda.ffi.CuContext.cuCtxSetCurrent(MemorySegment.NULL);
                try (DeviceBuffer b = DeviceBuffer.allocate(context, 64)) {
                    seen[0] = new AssertionError("allocated without a current context: " + b);
                }
            } catch (CudaException e) {
                seen[0] = e;
            }
        });
        t.join();
        assertThat(seen[0]).isInstanceOf(CudaException.class).hasMessageContaining("CudaContext.setCurrent()");
    }

    @Test
    void memory_info_reports_the_card() {
        CudaContext.MemoryInfo info = context.memoryInfo();
        assertThat(info.totalBytes()).isEqualTo(context.device().totalMemory());
        assertThat(info.freeBytes()).isPositive().isLessThanOrEqualTo(info.totalBytes());
    }

    @Test
    void a_tensor_map_passed_by_value_drives_the_bulk_copy_engine() {
        org.junit.jupiter.api.Assumptions.assumeTrue(context.device().computeCapability() >= 90, "needs sm_90+");
        int rows = 128;
        int cols = 96;
        float[] in = randomFloats(rows * cols);
        CudaFunction f = module.function("tma_load_tile");
        try (Arena arena = Arena.ofConfined();
             DeviceBuffer din = context.allocate(4L * rows * cols);
             DeviceBuffer dout = context.allocate(4L * 32 * 32);
             CudaStream stream = context.createStream()) {
            din.copyFromHost(MemorySegment.ofArray(in));
            TensorMap map = TensorMap.encodeTiled(din.address(), TensorMap.DataType.FLOAT32, new long[] {cols, rows},
                    new long[] {4L * cols}, new int[] {32, 32}, TensorMap.Swizzle.NONE, TensorMap.L2Promotion.B128);
            KernelArgs args = KernelArgs.builder().tensorMap(map).pointer(dout).i32(32).i32(64).build(arena);

            f.launch(LaunchConfig.of(1, 128), stream, args);
            stream.synchronize();
            float[] tile = dout.toFloatArray();
            for (int r = 0; r < 32; r++) {
                for (int c = 0; c < 32; c++) {
                    assertThat(tile[r * 32 + c]).as("tile[%d][%d]", r, c).isEqualTo(in[(64 + r) * cols + 32 + c]);
                }
            }

            args.setInt(2, 80); // columns 80..111: 96..111 lie outside and read as zeros
            args.setInt(3, 0);
            f.launch(LaunchConfig.of(1, 128), stream, args);
            stream.synchronize();
            tile = dout.toFloatArray();
            for (int r = 0; r < 32; r++) {
                for (int c = 0; c < 32; c++) {
                    float want = 80 + c < cols ? in[r * cols + 80 + c] : 0f;
                    assertThat(tile[r * 32 + c]).as("tile[%d][%d]", r, c).isEqualTo(want);
                }
            }
        }
    }

    @Test
    void occupancy_is_reported() {
        CudaFunction empty = module.function("empty_kernel");
        int blocks = empty.maxActiveBlocksPerMultiprocessor(256, 0);
        assertThat(blocks).isBetween(1, 64);
        CudaFunction smem = module.function("smem_roundtrip");
        smem.setMaxDynamicSharedMemory(200 * 1024);
        assertThat(smem.maxActiveBlocksPerMultiprocessor(256, 200 * 1024)).isEqualTo(1);
    }

    /**
     * {@code copyFromHost} and {@code fill} return when the bytes have landed, so work queued next on a
     * non-blocking stream (which does not wait for the legacy stream) reads them. From pageable memory
     * cuMemcpyHtoD alone returns once the bytes are staged, before the DMA lands: the expert-parallel
     * host-input forwards on 4 GPUs read stale rows that way. Sizes straddle the driver's staging chunks.
     */
    @Test
    void blocking_copies_are_visible_to_the_next_nonblocking_stream_work() {
        int[] sizes = {4 << 10, 64 << 10, 737_280, 1 << 20, 3 << 20, 8 << 20};
        try (CudaStream stream = context.createStream()) {
            for (int round = 0; round < 8; round++) {
                for (int n : sizes) {
                    byte[] want = new byte[n];
                    rnd.nextBytes(want);
                    try (Arena arena = Arena.ofConfined();
                            DeviceBuffer staged = context.allocate(n);
                            DeviceBuffer seen = context.allocate(n)) {
                        MemorySegment pageable = arena.allocate(n); // malloc'd: pageable, not pinned
                        MemorySegment.copy(want, 0, pageable, ValueLayout.JAVA_BYTE, 0, n);
                        staged.copyFromHost(pageable);
                        seen.copyFromAsync(staged, stream);
                        stream.synchronize();
                        assertThat(seen.toByteArray()).as("round %d, %d bytes after copyFromHost", round, n)
                                .isEqualTo(want);

                        byte v = (byte) (1 + rnd.nextInt(255));
                        staged.fill(v);
                        seen.copyFromAsync(staged, stream);
                        stream.synchronize();
                        byte[] got = seen.toByteArray();
                        for (int i = 0; i < n; i += 4093) {
                            assertThat(got[i]).as("round %d, byte %d of %d after fill", round, i, n).isEqualTo(v);
                        }
                        assertThat(got[n - 1]).as("round %d, last byte after fill", round).isEqualTo(v);
                    }
                }
            }
        }
    }
}
