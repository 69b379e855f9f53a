package io.moeoracle.core.weights;

import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.core.internal.json.Json;
import io.moeoracle.core.internal.json.JsonException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One {@code .safetensors} file, memory-mapped through FFM with no copy: tensors are views of
 * the mapping, which lives as long as the arena passed to {@link #open}.
 *
 * <p>Format: an 8-byte little-endian header length N, N bytes of UTF-8 JSON mapping each tensor
 * name to {@code {"dtype", "shape", "data_offsets": [begin, end]}} (offsets relative to the data
 * that follows the header) plus an optional {@code "__metadata__"} string map, then the data.
 * Everything is validated before any tensor is handed out; every violation is a
 * {@link SafetensorsException} naming the file, the tensor and the rule.
 */
public final class SafetensorsFile implements TensorSource {
    /** Headers larger than this are refused as absurd (the reference implementation uses the same bound). */
    public static final long MAX_HEADER_BYTES = 100L << 20;

    /** Safetensors dtype names and the {@link DType} each is read as. */
    private static final Map<String, DType> DTYPES = Map.ofEntries(
            Map.entry("BF16", DType.BF16), Map.entry("F16", DType.F16), Map.entry("F32", DType.F32),
            Map.entry("F64", DType.F64), Map.entry("U8", DType.U8), Map.entry("I8", DType.I8),
            Map.entry("I32", DType.I32), Map.entry("I64", DType.I64),
            Map.entry("F8_E4M3", DType.U8), Map.entry("F8_E5M2", DType.U8), Map.entry("F8_E8M0", DType.U8));

    /**
     * One tensor's header entry.
     *
     * @param name the tensor name
     * @param fileDtype the dtype as the file spells it (e.g. {@code F8_E4M3})
     * @param dtype the dtype it is read as
     * @param shape extents
     * @param begin first data byte, relative to the data section
     * @param end one past the last data byte
     */
    public record TensorInfo(String name, String fileDtype, DType dtype, long[] shape, long begin, long end) {
        /** Copies the shape. */
        public TensorInfo {
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }
    }

    private final Path path;
    private final MemorySegment data;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;
    private final HostTensor.Backing backing;

    private SafetensorsFile(Path path, MemorySegment data, Map<String, TensorInfo> tensors, Map<String, String> metadata,
                            HostTensor.Backing backing) {
        this.path = path;
        this.data = data;
        this.tensors = tensors;
        this.metadata = metadata;
        this.backing = backing;
    }

    /**
     * The check every mapped tensor of this file carries: the file (the same inode, found by its
     * path) must still be as long as when it was mapped. A file replaced by another one (a new
     * inode) or deleted leaves the old mapping readable, so only a shrunk original is refused.
     */
    private record MappedLength(Path path, Object fileKey, long size) implements HostTensor.Backing {
        @Override
        public void check() {
            BasicFileAttributes now;
            try {
                now = Files.readAttributes(path, BasicFileAttributes.class);
            } catch (NoSuchFileException gone) {
                return; // unlinked: the mapping keeps the old inode alive and whole
            } catch (IOException e) {
                throw new SafetensorsException(path, null, "cannot check that the mapped file is still whole before "
                        + "native code reads it: " + e, e);
            }
            boolean sameFile = fileKey == null || fileKey.equals(now.fileKey());
            if (sameFile && now.size() < size) {
                throw new SafetensorsException(path, null, "the file shrank from " + size + " to " + now.size()
                        + " bytes since it was opened; its mapped tensors can no longer be read (native code would "
                        + "crash the JVM). Do not modify a checkpoint while it is loaded; open it again");
            }
        }
    }

    /**
     * Fails when the file shrank since it was opened (see {@link HostTensor#checkBacking()}).
     *
     * @throws SafetensorsException naming the file and both sizes
     */
    public void checkNotShrunk() {
        backing.check();
    }

    /** @return the safetensors dtype names this reader accepts */
    public static Set<String> knownDtypes() {
        return Collections.unmodifiableSet(new java.util.TreeSet<>(DTYPES.keySet()));
    }

    /**
     * Opens, validates and maps a file.
     *
     * @param path the file
     * @param arena owns the mapping; tensors are valid while it is alive
     * @return the file
     * @throws SafetensorsException when the file cannot be read or breaks a rule
     */
    public static SafetensorsFile open(Path path, Arena arena) {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new SafetensorsException(path, null, "file is " + size
                        + " bytes, too short for the 8-byte header length (truncated?)");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, path);
            long n = lenBuf.getLong(0);
            if (n < 2 || n > MAX_HEADER_BYTES) {
                throw new SafetensorsException(path, null, "header length " + Long.toUnsignedString(n)
                        + " is absurd: it must be between 2 and " + MAX_HEADER_BYTES + " bytes (not a safetensors file?)");
            }
            if (n > size - 8) {
                throw new SafetensorsException(path, null, "header length " + n + " runs past the end of the "
                        + size + "-byte file (truncated?)");
            }
            ByteBuffer hdr = ByteBuffer.allocate((int) n);
            readFully(ch, hdr, 8, path);
            String json;
            try {
                json = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(hdr.flip()).toString();
            } catch (CharacterCodingException e) {
                throw new SafetensorsException(path, null, "header is not valid UTF-8", e);
            }
            long dataSize = size - 8 - n;
            Parsed parsed = parseHeader(path, json, dataSize);
            Object fileKey = Files.readAttributes(path, BasicFileAttributes.class).fileKey();
            MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            return new SafetensorsFile(path, mapped.asSlice(8 + n, dataSize), parsed.tensors, parsed.metadata,
                    new MappedLength(path, fileKey, size));
        } catch (IOException e) {
            throw new SafetensorsException(path, null, "cannot read: " + e, e);
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos, Path path) throws IOException {
        long p = pos;
        while (buf.hasRemaining()) {
            int r = ch.read(buf, p);
            if (r < 0) {
                throw new SafetensorsException(path, null, "unexpected end of file at byte " + p);
            }
            p += r;
        }
    }

    private record Parsed(Map<String, TensorInfo> tensors, Map<String, String> metadata) {
    }

    private static Parsed parseHeader(Path path, String json, long dataSize) {
        Object root;
        try {
            root = Json.parse(json);
        } catch (JsonException e) {
            throw new SafetensorsException(path, null, "header is not valid JSON: " + e.getMessage(), e);
        }
        if (!(root instanceof Map<?, ?> map)) {
            throw new SafetensorsException(path, null, "header must be a JSON object, found " + Json.typeName(root));
        }
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = Map.of();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String name = (String) e.getKey();
            if (name.equals("__metadata__")) {
                metadata = metadata(path, e.getValue());
                continue;
            }
            tensors.put(name, entry(path, name, e.getValue(), dataSize));
        }
        List<TensorInfo> byOffset = new ArrayList<>(tensors.values());
        byOffset.removeIf(t -> t.begin() == t.end());
        byOffset.sort(Comparator.comparingLong(TensorInfo::begin));
        for (int i = 1; i < byOffset.size(); i++) {
            TensorInfo prev = byOffset.get(i - 1);
            TensorInfo cur = byOffset.get(i);
            if (cur.begin() < prev.end()) {
                throw new SafetensorsException(path, cur.name(), "data_offsets [" + cur.begin() + ", " + cur.end()
                        + ") overlap tensor '" + prev.name() + "' at [" + prev.begin() + ", " + prev.end() + ")");
            }
        }
        return new Parsed(Collections.unmodifiableMap(tensors), metadata);
    }

    private static Map<String, String> metadata(Path path, Object v) {
        if (!(v instanceof Map<?, ?> m)) {
            throw new SafetensorsException(path, null, "__metadata__ must be an object of strings, found "
                    + Json.typeName(v));
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getValue() instanceof String s)) {
                throw new SafetensorsException(path, null, "__metadata__ value of '" + e.getKey()
                        + "' must be a string, found " + Json.typeName(e.getValue()));
            }
            out.put((String) e.getKey(), s);
        }
        return Collections.unmodifiableMap(out);
    }

    private static TensorInfo entry(Path path, String name, Object v, long dataSize) {
        if (!(v instanceof Map<?, ?> m)) {
            throw new SafetensorsException(path, name, "entry must be an object with dtype, shape and data_offsets, found "
                    + Json.typeName(v));
        }
        if (!(m.get("dtype") instanceof String fileDtype)) {
            throw new SafetensorsException(path, name, "dtype is missing or not a string");
        }
        DType dtype = DTYPES.get(fileDtype);
        if (dtype == null) {
            throw new SafetensorsException(path, name, "dtype '" + fileDtype + "' is unknown or unsupported; known: "
                    + knownDtypes());
        }
        if (!(m.get("shape") instanceof List<?> shapeList)) {
            throw new SafetensorsException(path, name, "shape is missing or not an array");
        }
        long[] shape = new long[shapeList.size()];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            if (!(shapeList.get(i) instanceof Long d) || d < 0) {
                throw new SafetensorsException(path, name, "shape " + shapeList + " must hold non-negative integers");
            }
            shape[i] = d;
            try {
                numel = Math.multiplyExact(numel, d);
            } catch (ArithmeticException overflow) {
                throw new SafetensorsException(path, name, "shape " + shapeList + " has more elements than a long can count");
            }
        }
        if (!(m.get("data_offsets") instanceof List<?> off) || off.size() != 2
                || !(off.get(0) instanceof Long begin) || !(off.get(1) instanceof Long end)) {
            throw new SafetensorsException(path, name, "data_offsets must be an array of two integers, found "
                    + m.get("data_offsets"));
        }
        if (begin < 0 || end < begin) {
            throw new SafetensorsException(path, name, "data_offsets [" + begin + ", " + end
                    + ") must satisfy 0 <= begin <= end");
        }
        long need;
        try {
            need = Math.multiplyExact(numel, dtype.byteSize());
        } catch (ArithmeticException overflow) {
            throw new SafetensorsException(path, name, "shape " + shapeList + " is too large to address");
        }
        if (end - begin != need) {
            throw new SafetensorsException(path, name, "data_offsets [" + begin + ", " + end + ") hold " + (end - begin)
                    + " bytes but " + fileDtype + " " + Arrays.toString(shape) + " needs " + need);
        }
        if (end > dataSize) {
            throw new SafetensorsException(path, name, "data_offsets [" + begin + ", " + end
                    + ") point past the end of the " + dataSize + "-byte data section (truncated file?)");
        }
        return new TensorInfo(name, fileDtype, dtype, shape, begin, end);
    }

    /** @return the file */
    public Path path() {
        return path;
    }

    @Override
    public Set<String> names() {
        return tensors.keySet();
    }

    /** @return the {@code __metadata__} entries (empty when absent) */
    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * @param name a tensor name
     * @return its header entry
     */
    public Optional<TensorInfo> info(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    @Override
    public HostTensor tensor(String name) {
        TensorInfo t = info(name).orElseThrow(() -> new SafetensorsException(path, name,
                "no such tensor (the file holds " + tensors.size() + ")"));
        backing.check();
        return HostTensor.mapped(data.asSlice(t.begin(), t.end() - t.begin()), t.dtype(), backing, t.shape());
    }

    @Override
    public String fileDtype(String name) {
        return info(name).orElseThrow(() -> new SafetensorsException(path, name,
                "no such tensor (the file holds " + tensors.size() + ")")).fileDtype();
    }

    @Override
    public Path fileOf(String name) {
        return path;
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + tensors.size() + " tensors]";
    }
}
