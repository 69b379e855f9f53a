package io.moeoracle.cli;

import java.nio.file.Path;

/**
 * File names of bench output. Kept apart from {@link BenchPlot}: loading that class needs
 * {@code java.desktop} (AWT), which a minimal JRE, such as the one the GPU machines run, lacks,
 * so {@code bench} without {@code --plot} must never touch it.
 */
final class BenchFiles {
    private BenchFiles() {
    }

    /**
     * @param file a file name
     * @param extension the new ending, with its dot (e.g. {@code "-marlin.json"})
     * @return the file beside it with the extension replaced
     */
    static Path sibling(Path file, String extension) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return file.resolveSibling((dot > 0 ? name.substring(0, dot) : name) + extension);
    }
}
