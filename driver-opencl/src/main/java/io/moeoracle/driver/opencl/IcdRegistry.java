package io.moeoracle.driver.opencl;

import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The OpenCL drivers (ICDs) registered with the ICD loader, read from the places the loaders read
 * (ocl-icd and the Khronos loader: {@code OCL_ICD_FILENAMES}, {@code OCL_ICD_VENDORS}, else
 * {@code /etc/OpenCL/vendors/*.icd}, each file naming the driver library on its first line) without
 * loading any of them. {@code clGetPlatformIDs} loads every registered driver into the process, so
 * this is how {@link OpenCl} decides, before that call, whether a driver that replaces the JVM's
 * signal handlers (PoCL, through the LLVM it embeds) would be loaded.
 *
 * @param drivers the registered drivers, in the order found (duplicates kept)
 * @param source where they were read from, for messages
 */
public record IcdRegistry(List<Driver> drivers, String source) {
    /** Where the loaders look when {@code OCL_ICD_VENDORS} is unset. */
    public static final Path DEFAULT_VENDORS = Path.of("/etc/OpenCL/vendors");

    /** Copies the list. */
    public IcdRegistry {
        drivers = List.copyOf(drivers);
    }

    /**
     * One registered driver.
     *
     * @param registeredBy the .icd file, or {@code OCL_ICD_FILENAMES}
     * @param library the library it names (a file name or a path)
     */
    public record Driver(String registeredBy, String library) {
        /**
         * @return whether this is a driver known to install its own handlers for the signals the JVM
         *         uses (PoCL: {@code libpocl}); such a driver can kill a JVM started without libjsig
         */
        public boolean replacesSignalHandlers() {
            String file = Path.of(library).getFileName().toString().toLowerCase(Locale.ROOT);
            return file.contains("pocl");
        }

        @Override
        public String toString() {
            return library + " (" + registeredBy + ")";
        }
    }

    /** @return the drivers registered for this process (its environment, the default vendors folder) */
    public static IcdRegistry current() {
        // the ICD loaders' own variables, not moe-oracle settings
        // loops and plain I/O, no streams or lambdas, here and below: the OpenCL probe runs in a cold JVM's first
        // discovery, where each lambda costs ~0.2 ms
        Map<String, String> env = new java.util.HashMap<>();
        String filenames = System.getenv("OCL_ICD_FILENAMES");
        if (filenames != null) {
            env.put("OCL_ICD_FILENAMES", filenames);
        }
        String vendors = System.getenv("OCL_ICD_VENDORS");
        if (vendors != null) {
            env.put("OCL_ICD_VENDORS", vendors);
        }
        return read(env, DEFAULT_VENDORS);
    }

    /**
     * Reads the registrations as the loaders would under this environment. Unreadable files are left
     * out (the loaders skip them too).
     *
     * @param env the environment ({@code OCL_ICD_FILENAMES}, {@code OCL_ICD_VENDORS})
     * @param defaultVendors the folder read when {@code OCL_ICD_VENDORS} is unset
     * @return the registrations
     */
    public static IcdRegistry read(Map<String, String> env, Path defaultVendors) {
        List<Driver> out = new ArrayList<>();
        List<String> sources = new ArrayList<>();
        String filenames = env.get("OCL_ICD_FILENAMES");
        if (filenames != null && !filenames.isBlank()) {
            sources.add("OCL_ICD_FILENAMES");
            for (String lib : filenames.split(":")) {
                if (!lib.isBlank()) {
                    out.add(new Driver("OCL_ICD_FILENAMES", lib.trim()));
                }
            }
        }
        String vendors = env.get("OCL_ICD_VENDORS");
        Path where;
        if (vendors != null && !vendors.isBlank()) {
            Path v = Path.of(vendors.trim());
            // ocl-icd also accepts one .icd file, by path or by name inside the default folder
            where = v.toFile().isDirectory() || v.isAbsolute() || vendors.contains("/") ? v : defaultVendors.resolve(v);
            sources.add("OCL_ICD_VENDORS=" + vendors.trim());
        } else {
            where = defaultVendors;
            sources.add(defaultVendors.toString());
        }
        // java.io rather than java.nio.file.Files: a fresh JVM lists and reads these sooner without NIO's channels
        File folder = where.toFile();
        if (folder.isDirectory()) {
            List<Path> icds = new ArrayList<>();
            String[] names = folder.list(); // null when unreadable: it registers nothing, as for the loaders
            for (String name : names == null ? new String[0] : names) {
                if (name.endsWith(".icd")) {
                    icds.add(where.resolve(name));
                }
            }
            Collections.sort(icds);
            for (Path f : icds) {
                Optional<Driver> d = icdFile(f);
                if (d.isPresent()) {
                    out.add(d.get());
                }
            }
        } else if (folder.isFile()) {
            Optional<Driver> d = icdFile(where);
            if (d.isPresent()) {
                out.add(d.get());
            }
        }
        return new IcdRegistry(out, String.join(" + ", sources));
    }

    private static Optional<Driver> icdFile(Path icd) {
        try (FileInputStream in = new FileInputStream(icd.toFile())) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                String first = line.trim();
                if (!first.isEmpty()) {
                    return Optional.of(new Driver(icd.toString(), first));
                }
            }
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** @return the registered drivers that replace the JVM's signal handlers */
    public List<Driver> signalReplacing() {
        List<Driver> out = new ArrayList<>();
        for (Driver d : drivers) {
            if (d.replacesSignalHandlers()) {
                out.add(d);
            }
        }
        return List.copyOf(out);
    }

    /** @return the registered drivers that do not */
    public List<Driver> others() {
        List<Driver> out = new ArrayList<>();
        for (Driver d : drivers) {
            if (!d.replacesSignalHandlers()) {
                out.add(d);
            }
        }
        return List.copyOf(out);
    }
}
