package io.moeoracle.driver.nccl.ffi;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The install folders searched for {@code libnccl.so.2} after {@code java.library.path} and the system
 * loader: the distribution's and CUDA's library folders, and the {@code nvidia/nccl/lib} folder of
 * Python's {@code nvidia-nccl-cu12}/{@code -cu13} packages under every {@code python3.X} of the usual
 * prefixes (system, {@code /usr/local}, the user's {@code ~/.local}, conda and virtual environments
 * under {@code /opt}). Pure path arithmetic over what exists, so it is tested on any machine.
 */
public final class NcclLibraryLocations {
    /** Library files that qualify in those folders. */
    public static final String FILES = "libnccl\\.so(\\.\\d+)*";

    private NcclLibraryLocations() {
    }

    /** @return the folders to search on this machine, in order (only those that exist) */
    public static List<Path> defaultFolders() {
        Path home = Path.of(System.getProperty("user.home", "/nonexistent"));
        List<Path> libRoots = new ArrayList<>(List.of(Path.of("/usr/local/lib"), Path.of("/usr/lib"),
                Path.of("/usr/lib64"), home.resolve(".local/lib"), Path.of("/opt/conda/lib")));
        libRoots.addAll(children(Path.of("/opt"), "lib"));
        libRoots.addAll(children(Path.of("/opt/conda/envs"), "lib"));
        List<Path> out = new ArrayList<>(existing(List.of(Path.of("/usr/lib/x86_64-linux-gnu"),
                Path.of("/usr/lib/aarch64-linux-gnu"), Path.of("/usr/local/nccl/lib"), Path.of("/opt/nccl/lib"),
                Path.of("/usr/local/cuda/lib64"), Path.of("/usr/local/cuda/targets/x86_64-linux/lib"))));
        out.addAll(pythonPackageFolders(libRoots));
        return List.copyOf(out);
    }

    /**
     * @param libRoots folders holding {@code python3.*} folders (e.g. {@code /usr/local/lib})
     * @return each existing {@code <root>/python3.X/site-packages/nvidia/nccl/lib} (or
     *     {@code dist-packages}, and the Debian-style {@code <root>/python3/dist-packages/...}), in the
     *     order of the roots, newest Python first within a root
     */
    public static List<Path> pythonPackageFolders(List<Path> libRoots) {
        List<Path> out = new ArrayList<>();
        for (Path root : libRoots) {
            List<Path> pythons = new ArrayList<>();
            if (Files.isDirectory(root)) {
                try (DirectoryStream<Path> ds = Files.newDirectoryStream(root, "python3*")) {
                    ds.forEach(pythons::add);
                } catch (IOException e) {
                    continue; // an unreadable folder is a few candidates fewer
                }
            }
            pythons.sort((a, b) -> compareVersions(b.getFileName().toString(), a.getFileName().toString()));
            for (Path py : pythons) {
                for (String packages : List.of("site-packages", "dist-packages")) {
                    Path lib = py.resolve(packages).resolve("nvidia/nccl/lib");
                    if (Files.isDirectory(lib)) {
                        out.add(lib);
                    }
                }
            }
        }
        return out;
    }

    /** {@code python3.12} after {@code python3.9}: compares the numbers, not the text. */
    static int compareVersions(String a, String b) {
        String[] x = a.replaceAll("[^0-9.]", "").split("\\.");
        String[] y = b.replaceAll("[^0-9.]", "").split("\\.");
        for (int i = 0; i < Math.max(x.length, y.length); i++) {
            int c = Integer.compare(number(x, i), number(y, i));
            if (c != 0) {
                return c;
            }
        }
        return a.compareTo(b);
    }

    private static int number(String[] parts, int i) {
        try {
            return i < parts.length && !parts[i].isEmpty() ? Integer.parseInt(parts[i]) : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static List<Path> children(Path dir, String sub) {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                if (Files.isDirectory(p.resolve(sub))) {
                    out.add(p.resolve(sub));
                }
            }
        } catch (IOException e) {
            return out;
        }
        out.sort(null);
        return out;
    }

    private static List<Path> existing(List<Path> dirs) {
        return dirs.stream().filter(Files::isDirectory).toList();
    }
}
