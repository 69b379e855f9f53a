package io.moeoracle.core.weights;

import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.core.internal.json.Json;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a {@code .safetensors} file: tensors in the order added, the header padded with spaces
 * to a multiple of 8 bytes. For tests, random checkpoints and converted weights.
 */
public final class SafetensorsWriter {
    private record Entry(String name, String dtype, long[] shape, MemorySegment bytes) {
    }

    private final List<Entry> entries = new ArrayList<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    /** An empty writer. */
    public SafetensorsWriter() {
    }

    /**
     * @param key metadata key
     * @param value metadata value
     * @return this
     */
    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /**
     * Adds a tensor under its own dtype.
     *
     * @param name tensor name
     * @param t the tensor; its bytes are read when {@link #write} runs
     * @return this
     */
    public SafetensorsWriter add(String name, HostTensor t) {
        return add(name, dtypeName(t.dtype()), t.shape(), t.data());
    }

    /**
     * Adds raw bytes under a safetensors dtype name (e.g. {@code F8_E4M3}).
     *
     * @param name tensor name
     * @param dtype safetensors dtype name
     * @param shape extents
     * @param bytes exactly the tensor's bytes
     * @return this
     */
    public SafetensorsWriter add(String name, String dtype, long[] shape, MemorySegment bytes) {
        for (Entry e : entries) {
            if (e.name.equals(name)) {
                throw new IllegalArgumentException("tensor '" + name + "' was already added");
            }
        }
        entries.add(new Entry(name, dtype, shape.clone(), bytes));
        return this;
    }

    /**
     * @param d a dtype
     * @return its safetensors name
     */
    public static String dtypeName(DType d) {
        return d.name();
    }

    /**
     * Writes the file, replacing any existing one.
     *
     * @param path the file
     * @throws IOException when writing fails
     */
    public void write(Path path) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        if (!metadata.isEmpty()) {
            header.put("__metadata__", metadata);
        }
        long offset = 0;
        for (Entry e : entries) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("dtype", e.dtype);
            List<Long> shape = new ArrayList<>();
            for (long d : e.shape) {
                shape.add(d);
            }
            m.put("shape", shape);
            m.put("data_offsets", List.of(offset, offset + e.bytes.byteSize()));
            header.put(e.name, m);
            offset += e.bytes.byteSize();
        }
        byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(ch, head.flip());
            for (Entry e : entries) {
                // heap copy in pieces: works for any segment (heap, native, mapped, any arena of this thread)
                long n = e.bytes.byteSize();
                for (long off = 0; off < n; off += 1 << 24) {
                    int len = (int) Math.min(1 << 24, n - off);
                    writeFully(ch, ByteBuffer.wrap(e.bytes.asSlice(off, len).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)));
                }
            }
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }
}
