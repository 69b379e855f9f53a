package io.moeoracle.core.select;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.api.spec.ActivationFormat;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The catalogue of this project's official backends (the data is {@code official-backends.tsv}
 * beside this class): which artifact holds each one and which devices and schemes it would serve,
 * so that an explanation can name the jar to add when nothing installed runs a layer, or when a
 * better backend for the device is missing.
 */
final class OfficialBackends {
    /** The Maven group of every official artifact. */
    static final String GROUP = "io.moeoracle";
    private static final String RESOURCE = "official-backends.tsv";
    private static final List<Entry> CATALOGUE = load();

    private OfficialBackends() {
    }

    /**
     * One official backend.
     *
     * @param id the provider id
     * @param artifact the Maven artifact id that holds it
     * @param released false while the backend is planned but not yet published
     * @param vendor the device vendor it runs on
     * @param archs the device architectures: {@code sm_NN+}, a list, a prefix ending in {@code *}, or {@code *}
     * @param weights the weight formats it reads (lower-case kind names)
     * @param activations the activation types it runs
     * @param formats the activation formats ({@code standard}, {@code batched}), plus {@code lora} when it
     *     runs LoRA adapters
     * @param priority the priority it declares for such a device
     * @param wouldRun what it would run, for the explanation
     */
    record Entry(String id, String artifact, boolean released, Vendor vendor, List<String> archs, Set<String> weights,
                 List<ActivationType> activations, Set<String> formats, int priority, String wouldRun) {

        /** @return the coordinates to add, e.g. {@code io.moeoracle:moe-oracle-backend-marlin} */
        String coordinates() {
            return GROUP + ":" + artifact;
        }

        /**
         * @param spec the layer
         * @param device the device
         * @return whether this backend would serve the layer on the device, by its catalogue entry
         */
        boolean serves(MoeLayerSpec spec, DeviceInfo device) {
            if (device.vendor() != vendor || !archMatches(device.arch())) {
                return false;
            }
            if (!weights.contains(spec.quant().weights().kind().name().toLowerCase(Locale.ROOT))) {
                return false;
            }
            ActivationType act = spec.quant().activations();
            if (act != ActivationType.AUTO && !activations.contains(act)) {
                return false;
            }
            String format = spec.activationFormat() == ActivationFormat.BATCHED ? "batched" : "standard";
            return formats.contains(format) && (!spec.lora() || formats.contains("lora"));
        }

        /** @return the activation type it would run the spec with */
        ActivationType activationFor(MoeLayerSpec spec) {
            ActivationType act = spec.quant().activations();
            return act == ActivationType.AUTO ? activations.getFirst() : act;
        }

        private boolean archMatches(String arch) {
            String a = arch.toLowerCase(Locale.ROOT);
            for (String rule : archs) {
                if (rule.equals("*") || rule.equals(a)
                        || (rule.endsWith("*") && a.startsWith(rule.substring(0, rule.length() - 1)))
                        || (rule.startsWith("sm_") && rule.endsWith("+") && smAtLeast(a, rule))) {
                    return true;
                }
            }
            return false;
        }

        private static boolean smAtLeast(String arch, String rule) {
            int need = Integer.parseInt(rule.substring(3, rule.length() - 1));
            if (!arch.startsWith("sm_")) {
                return false;
            }
            int end = 3;
            while (end < arch.length() && arch.charAt(end) >= '0' && arch.charAt(end) <= '9') {
                end++;
            }
            String digits = arch.substring(3, end);
            return !digits.isEmpty() && Integer.parseInt(digits) >= need;
        }
    }

    /** @return every official backend, in the catalogue's order */
    static List<Entry> all() {
        return CATALOGUE;
    }

    private static List<Entry> load() {
        try (InputStream in = OfficialBackends.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the core jar beside "
                        + OfficialBackends.class.getName() + "; the jar is damaged: rebuild or re-download it");
            }
            List<Entry> entries = new ArrayList<>();
            int lineNo = 0;
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                lineNo++;
                if (line.isBlank() || line.stripLeading().startsWith("#")) {
                    continue;
                }
                entries.add(parse(line, lineNo));
            }
            return List.copyOf(entries);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE + " from the core jar", e);
        }
    }

    private static Entry parse(String line, int lineNo) {
        // loops, not streams: the catalogue is read during a cold JVM's first select
        String[] f = line.split("\\|");
        for (int i = 0; i < f.length; i++) {
            f[i] = f[i].strip();
        }
        if (f.length != 10) {
            throw new IllegalStateException(RESOURCE + " line " + lineNo + " has " + f.length
                    + " fields, expected 10: " + line);
        }
        return new Entry(f[0], f[1], f[2].equals("released"), vendor(f[3], lineNo),
                list(f[4]), Set.copyOf(list(f[5])),
                activationTypes(list(f[6])), Set.copyOf(list(f[7])),
                Integer.parseInt(f[8]), f[9]);
    }

    /** A loop over the constants, not {@code Enum.valueOf}: its first call sets up reflection (a cold JVM's first select). */
    private static Vendor vendor(String name, int lineNo) {
        for (Vendor v : Vendor.values()) {
            if (v.name().equalsIgnoreCase(name)) {
                return v;
            }
        }
        throw new IllegalStateException(RESOURCE + " line " + lineNo + ": no vendor '" + name + "'");
    }

    private static List<String> list(String field) {
        List<String> out = new ArrayList<>();
        for (String s : field.split(",")) {
            String v = s.strip().toLowerCase(Locale.ROOT);
            if (!v.isEmpty()) {
                out.add(v);
            }
        }
        return out;
    }

    private static List<ActivationType> activationTypes(List<String> names) {
        List<ActivationType> out = new ArrayList<>();
        for (String n : names) {
            out.add(ActivationType.parse(n));
        }
        return List.copyOf(out);
    }
}
