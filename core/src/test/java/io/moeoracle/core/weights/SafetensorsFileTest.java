package io.moeoracle.core.weights;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsFileTest {
    private static final long SEED = System.nanoTime();

    @TempDir
    Path dir;

    /** A file with a hand-written header and {@code dataBytes} bytes of data. */
    private Path raw(String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path p = dir.resolve("bad.safetensors");
        Files.write(p, b.array());
        return p;
    }

    private static String entry(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
    }

    @Test
    void roundTripsThroughTheWriter() throws IOException {
        SplittableRandom rnd = new SplittableRandom(SEED);
        try (Arena arena = Arena.ofConfined()) {
            HostTensor a = HostTensor.allocate(arena, DType.BF16, 3, 5);
            HostTensor b = HostTensor.allocate(arena, DType.U8, 2, 4, 16);
            HostTensor c = HostTensor.allocate(arena, DType.F32, 7);
            HostTensor empty = HostTensor.allocate(arena, DType.I64, 0, 3);
            for (HostTensor t : new HostTensor[] {a, b, c}) {
                byte[] bytes = new byte[(int) t.byteSize()];
                rnd.nextBytes(bytes);
                MemorySegment.copy(bytes, 0, t.data(), ValueLayout.JAVA_BYTE, 0, bytes.length);
            }
            byte[] fp8 = {1, 2, 3, 4};
            Path p = dir.resolve("ok.safetensors");
            new SafetensorsWriter().metadata("format", "pt").add("a", a).add("b", b).add("c", c).add("empty", empty)
                    .add("fp8", "F8_E4M3", new long[] {2, 2}, MemorySegment.ofArray(fp8)).write(p);
            SafetensorsFile f = SafetensorsFile.open(p, arena);
            assertThat(f.names()).containsExactly("a", "b", "c", "empty", "fp8");
            assertThat(f.metadata()).containsEntry("format", "pt");
            for (String n : new String[] {"a", "b", "c"}) {
                HostTensor orig = n.equals("a") ? a : n.equals("b") ? b : c;
                HostTensor got = f.tensor(n);
                assertThat(got.dtype()).isEqualTo(orig.dtype());
                assertThat(got.shape()).isEqualTo(orig.shape());
                assertThat(got.data().mismatch(orig.data())).as("seed %d", SEED).isEqualTo(-1);
            }
            assertThat(f.tensor("empty").shape()).containsExactly(0, 3);
            assertThat(f.tensor("fp8").dtype()).isEqualTo(DType.U8);
            assertThat(f.info("fp8").orElseThrow().fileDtype()).isEqualTo("F8_E4M3");
            assertThat(f.tensor("fp8").data().toArray(ValueLayout.JAVA_BYTE)).containsExactly(fp8);
            assertThat(f.tensor("a").data().isMapped()).isTrue();
            // the data section starts 8-byte aligned
            assertThat(Files.size(p) - 8 - (5 * 2 * 3 + 128 + 28 + 4)).isEqualTo(
                    (Files.size(p) - 8 - (5 * 2 * 3 + 128 + 28 + 4)) / 8 * 8);
            assertThatThrownBy(() -> f.tensor("nope")).isInstanceOf(SafetensorsException.class)
                    .hasMessageContaining("'nope'").hasMessageContaining("no such tensor");
        }
    }

    private void rejects(Path p, String... fragments) {
        try (Arena arena = Arena.ofConfined()) {
            assertThatThrownBy(() -> SafetensorsFile.open(p, arena))
                    .isInstanceOf(SafetensorsException.class)
                    .hasMessageContaining(p.toString())
                    .satisfies(e -> {
                        for (String s : fragments) {
                            assertThat(e.getMessage()).contains(s);
                        }
                    });
        }
    }

    @Test
    void shapeThatDisagreesWithDataOffsets() throws IOException {
        rejects(raw("{" + entry("w.weight", "BF16", "[3,2]", 0, 10) + "}", 16),
                "tensor 'w.weight'", "hold 10 bytes", "needs 12");
    }

    @Test
    void truncatedFile() throws IOException {
        Path p = raw("{" + entry("w13", "U8", "[4,8]", 0, 32) + "}", 32);
        byte[] all = Files.readAllBytes(p);
        Files.write(p, Arrays.copyOf(all, all.length - 5));
        rejects(p, "tensor 'w13'", "past the end", "truncated");
        Files.write(p, Arrays.copyOf(all, 20));
        rejects(p, "header length", "past the end");
        Files.write(p, Arrays.copyOf(all, 5));
        rejects(p, "too short");
    }

    @Test
    void unknownAndWrongDtypes() throws IOException {
        rejects(raw("{" + entry("x", "Q4_K", "[2]", 0, 2) + "}", 2), "tensor 'x'", "dtype 'Q4_K'", "known:");
        rejects(raw("{\"x\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,1]}}", 1), "tensor 'x'", "dtype");
        rejects(raw("{" + entry("x", "F32", "[2]", 0, 2) + "}", 2), "tensor 'x'", "needs 8");
    }

    @Test
    void offsetsPastTheEnd() throws IOException {
        rejects(raw("{" + entry("a", "U8", "[4]", 0, 4) + "," + entry("b", "U8", "[4]", 100, 104) + "}", 8),
                "tensor 'b'", "[100, 104)", "past the end");
    }

    @Test
    void overlappingTensors() throws IOException {
        rejects(raw("{" + entry("a", "U8", "[8]", 0, 8) + "," + entry("b", "U8", "[8]", 4, 12) + "}", 12),
                "overlap", "'a'", "'b'");
    }

    @Test
    void absurdHeaderLength() throws IOException {
        Path p = dir.resolve("absurd.safetensors");
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN).putLong(Long.MAX_VALUE);
        Files.write(p, b.array());
        rejects(p, "header length", "absurd");
        b.putLong(0, -1L);
        Files.write(p, b.array());
        rejects(p, "header length 18446744073709551615", "absurd");
        b.putLong(0, 1L << 40);
        Files.write(p, b.array());
        rejects(p, "absurd");
    }

    @Test
    void malformedHeaders() throws IOException {
        rejects(raw("{\"a\": [", 0), "not valid JSON", "line 1");
        rejects(raw("[1,2]", 0), "must be a JSON object");
        rejects(raw("{" + entry("a", "U8", "[-1]", 0, 0) + "}", 0), "tensor 'a'", "non-negative");
        rejects(raw("{" + entry("a", "U8", "[2]", 2, 0) + "}", 4), "tensor 'a'", "begin <= end");
        rejects(raw("{\"a\":{\"dtype\":\"U8\",\"shape\":[1]}}", 1), "tensor 'a'", "data_offsets");
        rejects(raw("{\"__metadata__\":{\"k\":1}}", 0), "__metadata__");
        rejects(raw("{" + entry("a", "F64", "[4294967296,4294967296]", 0, 8) + "}", 8), "tensor 'a'");
        Path p = raw("{\"a\":1}", 0);
        byte[] all = Files.readAllBytes(p);
        all[9] = (byte) 0xC3; // broken UTF-8 inside the key
        all[10] = (byte) 0x28;
        Files.write(p, all);
        rejects(p, "UTF-8");
    }

    @Test
    void randomGarbageNeverCrashes() throws IOException {
        SplittableRandom rnd = new SplittableRandom(SEED);
        Path good = dir.resolve("good.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            new SafetensorsWriter().add("a", HostTensor.allocate(arena, DType.F32, 4, 4))
                    .add("b", HostTensor.allocate(arena, DType.U8, 9)).write(good);
        }
        byte[] orig = Files.readAllBytes(good);
        for (int trial = 0; trial < 300; trial++) {
            byte[] mutated = orig.clone();
            int flips = 1 + rnd.nextInt(4);
            for (int i = 0; i < flips; i++) {
                mutated[rnd.nextInt(Math.min(mutated.length, 8 + 200))] = (byte) rnd.nextInt();
            }
            if (rnd.nextInt(4) == 0) {
                mutated = Arrays.copyOf(mutated, rnd.nextInt(mutated.length));
            }
            Path p = dir.resolve("m" + trial + ".safetensors");
            Files.write(p, mutated);
            try (Arena arena = Arena.ofConfined()) {
                SafetensorsFile f = SafetensorsFile.open(p, arena);
                for (String n : f.names()) {
                    HostTensor t = f.tensor(n);
                    if (t.byteSize() > 0) {
                        t.data().get(ValueLayout.JAVA_BYTE, t.byteSize() - 1); // every view is readable
                    }
                }
            } catch (SafetensorsException expected) {
                assertThat(expected.getMessage()).as("seed %d", SEED).contains(p.toString());
            }
        }
    }
}
