package io.moeoracle.core.weights;

import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.core.internal.json.Json;
import io.moeoracle.core.internal.json.JsonException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A checkpoint of one or more safetensors files, all memory-mapped. {@link #open(Path)} accepts
 * a folder (with {@code model.safetensors.index.json}, or else every {@code *.safetensors} in
 * it), an index file, or a single {@code .safetensors} file.
 */
public final class SafetensorsCheckpoint implements TensorSource, AutoCloseable {
    /** The Hugging Face index file name. */
    public static final String INDEX = "model.safetensors.index.json";

    private final Path root;
    private final Map<String, SafetensorsFile> byTensor;
    private final List<SafetensorsFile> files;
    private final Arena ownArena;

    private SafetensorsCheckpoint(Path root, Map<String, SafetensorsFile> byTensor, List<SafetensorsFile> files,
                                  Arena ownArena) {
        this.root = root;
        this.byTensor = byTensor;
        this.files = files;
        this.ownArena = ownArena;
    }

    /**
     * Opens a checkpoint whose mappings this object owns; {@link #close} unmaps them.
     *
     * @param dirOrFile a folder, an index file or a {@code .safetensors} file
     * @return the checkpoint
     * @throws SafetensorsException when a file is missing, malformed, or a tensor appears twice
     */
    public static SafetensorsCheckpoint open(Path dirOrFile) {
        Arena arena = Arena.ofShared();
        try {
            return open(dirOrFile, arena, arena);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * Opens a checkpoint mapped into the caller's arena ({@link #close} then does nothing).
     *
     * @param dirOrFile a folder, an index file or a {@code .safetensors} file
     * @param arena owns the mappings
     * @return the checkpoint
     */
    public static SafetensorsCheckpoint open(Path dirOrFile, Arena arena) {
        return open(dirOrFile, arena, null);
    }

    private static SafetensorsCheckpoint open(Path p, Arena arena, Arena own) {
        if (Files.isDirectory(p)) {
            Path index = p.resolve(INDEX);
            if (Files.isRegularFile(index)) {
                return fromIndex(index, arena, own);
            }
            List<Path> found = new ArrayList<>();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(p, "*.safetensors")) {
                ds.forEach(found::add);
            } catch (IOException e) {
                throw new SafetensorsException(p, null, "cannot list the folder: " + e, e);
            }
            if (found.isEmpty()) {
                throw new SafetensorsException(p, null, "folder holds neither " + INDEX
                        + " nor any *.safetensors file; pass the model folder or a .safetensors file");
            }
            Collections.sort(found);
            return fromFiles(p, found, arena, own);
        }
        if (!Files.isRegularFile(p)) {
            throw new SafetensorsException(p, null, "no such file or folder");
        }
        if (p.getFileName().toString().endsWith(".json")) {
            return fromIndex(p, arena, own);
        }
        return fromFiles(p, List.of(p), arena, own);
    }

    private static SafetensorsCheckpoint fromFiles(Path root, List<Path> paths, Arena arena, Arena own) {
        Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();
        List<SafetensorsFile> files = new ArrayList<>();
        for (Path path : paths) {
            SafetensorsFile f = SafetensorsFile.open(path, arena);
            files.add(f);
            for (String name : f.names()) {
                SafetensorsFile prev = byTensor.putIfAbsent(name, f);
                if (prev != null) {
                    throw new SafetensorsException(path, name, "also present in " + prev.path()
                            + "; a tensor must live in one file only");
                }
            }
        }
        return new SafetensorsCheckpoint(root, byTensor, files, own);
    }

    private static SafetensorsCheckpoint fromIndex(Path index, Arena arena, Arena own) {
        Map<String, Object> json;
        try {
            json = Json.parseObject(Files.readString(index));
        } catch (IOException e) {
            throw new SafetensorsException(index, null, "cannot read: " + e, e);
        } catch (JsonException e) {
            throw new SafetensorsException(index, null, "not valid JSON: " + e.getMessage(), e);
        }
        if (!(json.get("weight_map") instanceof Map<?, ?> weightMap)) {
            throw new SafetensorsException(index, null, "\"weight_map\" is missing or not an object");
        }
        Map<String, SafetensorsFile> opened = new TreeMap<>();
        Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();
        Path dir = index.toAbsolutePath().getParent();
        for (Map.Entry<?, ?> e : weightMap.entrySet()) {
            String name = (String) e.getKey();
            if (!(e.getValue() instanceof String fileName) || fileName.contains("/") || fileName.contains("\\")
                    || fileName.equals("..")) {
                throw new SafetensorsException(index, name, "weight_map value " + Json.write(e.getValue())
                        + " must be a file name in the index's folder");
            }
            SafetensorsFile f = opened.computeIfAbsent(fileName, fn -> SafetensorsFile.open(dir.resolve(fn), arena));
            if (!f.names().contains(name)) {
                throw new SafetensorsException(f.path(), name, "listed in " + index.getFileName()
                        + " but missing from the file");
            }
            byTensor.put(name, f);
        }
        return new SafetensorsCheckpoint(index, byTensor, List.copyOf(opened.values()), own);
    }

    /** @return the folder or file this was opened from */
    public Path root() {
        return root;
    }

    /** @return the files, each opened once */
    public List<SafetensorsFile> files() {
        return files;
    }

    @Override
    public Set<String> names() {
        return Collections.unmodifiableSet(byTensor.keySet());
    }

    @Override
    public HostTensor tensor(String name) {
        SafetensorsFile f = byTensor.get(name);
        if (f == null) {
            throw new SafetensorsException(root, name, "no such tensor in the checkpoint (" + byTensor.size()
                    + " tensors in " + files.size() + " file(s))");
        }
        return f.tensor(name);
    }

    @Override
    public String fileDtype(String name) {
        SafetensorsFile f = byTensor.get(name);
        if (f == null) {
            throw new SafetensorsException(root, name, "no such tensor in the checkpoint");
        }
        return f.fileDtype(name);
    }

    @Override
    public Path fileOf(String name) {
        SafetensorsFile f = byTensor.get(name);
        return f == null ? root : f.path();
    }

    /** Unmaps the files when this checkpoint owns the mappings; tensors handed out become invalid. */
    @Override
    public void close() {
        if (ownArena != null) {
            ownArena.close();
        }
    }
}
