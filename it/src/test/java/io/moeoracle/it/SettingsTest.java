package io.moeoracle.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.Setting;
import io.moeoracle.backend.aiter.AiterSettings;
import io.moeoracle.backend.cpu.CpuSettings;
import io.moeoracle.backend.flashinfer.FlashinferSettings;
import io.moeoracle.backend.xpu.XpuSettings;
import io.moeoracle.cli.CliSettings;
import io.moeoracle.core.select.SelectionSettings;
import io.moeoracle.driver.cuda.ffi.CudaSettings;
import io.moeoracle.driver.nccl.ffi.NcclSettings;
import io.moeoracle.ep.EpSettings;
import io.moeoracle.driver.hip.ffi.HipSettings;
import io.moeoracle.driver.opencl.ffi.OpenClSettings;
import io.moeoracle.measure.MeasureSettings;
import io.moeoracle.nativeload.NativeSettings;
import io.moeoracle.tck.TckSettings;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * One place for settings: every system property and environment variable the project reads is a
 * {@link Setting} declared in its module's one settings class, read through it, and listed in the
 * README's settings table; the table lists nothing else.
 *
 * <p>JDK-standard properties ({@link #STANDARD_PROPERTIES}: {@code os.arch}, {@code java.io.tmpdir},
 * {@code user.home}, ...) and the platform's environment variables ({@link #STANDARD_VARIABLES}:
 * {@code LD_PRELOAD}, {@code COLUMNS}, the OpenCL ICD loaders' {@code OCL_ICD_*}) may be read anywhere, by literal
 * name; they are the platform's, not ours, so they are neither declared nor in the table.
 */
class SettingsTest {
    private static final Path ROOT = Path.of("..");

    /** Each module's one settings class. A new one is added here (the source scan fails until it is). */
    private static final List<Class<?>> SETTINGS_CLASSES = List.of(SelectionSettings.class, NativeSettings.class,
            CudaSettings.class, HipSettings.class, OpenClSettings.class, NcclSettings.class, CpuSettings.class,
            XpuSettings.class, AiterSettings.class, FlashinferSettings.class, EpSettings.class, CliSettings.class,
            TckSettings.class, MeasureSettings.class);

    /** Properties of the JDK (and one of slf4j-simple, which the CLI only checks the user did not set). */
    static final Set<String> STANDARD_PROPERTIES = Set.of("os.arch", "os.name", "os.version", "java.io.tmpdir", "user.home",
            "user.name", "java.library.path", "java.home", "java.class.path", "java.vm.vendor", "java.vendor",
            "java.version", "line.separator", "file.separator", "path.separator",
            "org.slf4j.simpleLogger.defaultLogLevel");

    /** Environment variables of the OS, the terminal and other libraries (the OpenCL ICD loaders, NCCL). */
    static final Set<String> STANDARD_VARIABLES = Set.of("LD_PRELOAD", "COLUMNS", "OCL_ICD_VENDORS",
            "OCL_ICD_FILENAMES", "NCCL_NVLS_ENABLE");

    private static final Pattern LITERAL_VARIABLE = Pattern.compile("System\\.getenv\\(\\s*\"([^\"]+)\"\\)");
    private static final Pattern LITERAL_PROPERTY = Pattern.compile("System\\.getProperty\\(\\s*\"([^\"]+)\"");
    private static final Pattern ANY_PROPERTY_READ = Pattern.compile("System\\.getProperty\\(");
    /** Reads that only a settings class (or Setting itself) may make. */
    private static final Pattern SETTINGS_ONLY = Pattern.compile("System\\.getenv\\b|System::getenv|System::getProperty"
            + "|System\\.getProperties\\(|Long\\.getLong\\(|Integer\\.getInteger\\(|Boolean\\.getBoolean\\(");
    private static final Pattern DECLARES = Pattern.compile("Setting\\.(property|propertyOrEnv)\\(|new Setting\\(");
    private static final Pattern TICKED = Pattern.compile("`([^`]+)`");

    private static List<Setting> declared() throws IllegalAccessException {
        List<Setting> all = new ArrayList<>();
        for (Class<?> c : SETTINGS_CLASSES) {
            List<Setting> fields = new ArrayList<>();
            for (Field f : c.getDeclaredFields()) {
                int m = f.getModifiers();
                if (f.getType() == Setting.class && Modifier.isStatic(m) && Modifier.isPublic(m) && Modifier.isFinal(m)) {
                    fields.add((Setting) f.get(null));
                }
            }
            assertThat(fields).as(c.getName() + " declares settings").isNotEmpty();
            try {
                @SuppressWarnings("unchecked")
                List<Setting> listed = (List<Setting>) c.getMethod("all").invoke(null);
                assertThat(listed).as(c.getName() + ".all() lists every Setting field").containsExactlyInAnyOrderElementsOf(fields);
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(c.getName() + " needs a public static List<Setting> all()", e);
            }
            all.addAll(fields);
        }
        return all;
    }

    private static List<Path> mainSources() throws IOException {
        try (Stream<Path> files = Files.walk(ROOT, 12)) {
            return files.filter(p -> p.toString().endsWith(".java"))
                    .filter(p -> p.toString().replace('\\', '/').contains("/src/main/java/"))
                    .filter(p -> !p.toString().contains("/target/") && !p.toString().contains("/.git/"))
                    .sorted().toList();
        }
    }

    private static String className(Path source) {
        String s = source.toString().replace('\\', '/');
        return s.substring(s.indexOf("/src/main/java/") + "/src/main/java/".length(), s.length() - ".java".length())
                .replace('/', '.');
    }

    @Test
    @DisplayName("settings are read only through their module's settings class; elsewhere only JDK-standard properties")
    void noSettingIsReadOutsideItsSettingsClass() throws IOException {
        Set<String> allowed = new TreeSet<>(SETTINGS_CLASSES.stream().map(Class::getName).toList());
        allowed.add(Setting.class.getName());
        List<String> offences = new ArrayList<>();
        List<Path> sources = mainSources();
        assertThat(sources).as("main sources found from " + ROOT.toAbsolutePath()).hasSizeGreaterThan(100);
        for (Path source : sources) {
            String cls = className(source);
            String text = Files.readString(source);
            if (allowed.contains(cls)) {
                continue;
            }
            if (DECLARES.matcher(text).find()) {
                offences.add(cls + " declares a Setting: declare it in the module's one settings class (and list that"
                        + " class in SettingsTest.SETTINGS_CLASSES if it is new)");
            }
            Matcher variable = LITERAL_VARIABLE.matcher(text);
            while (variable.find()) {
                if (!STANDARD_VARIABLES.contains(variable.group(1))) {
                    offences.add(cls + " reads the environment variable '" + variable.group(1) + "' directly:"
                            + " declare a Setting");
                }
            }
            Matcher only = SETTINGS_ONLY.matcher(LITERAL_VARIABLE.matcher(text).replaceAll("STANDARD_VARIABLE"));
            while (only.find()) {
                offences.add(cls + " reads '" + only.group() + "...': declare a Setting and read it through that");
            }
            int literal = 0;
            Matcher lit = LITERAL_PROPERTY.matcher(text);
            while (lit.find()) {
                literal++;
                if (!STANDARD_PROPERTIES.contains(lit.group(1))) {
                    offences.add(cls + " reads the property '" + lit.group(1) + "' directly: declare a Setting");
                }
            }
            Matcher any = ANY_PROPERTY_READ.matcher(text);
            int reads = 0;
            while (any.find()) {
                reads++;
            }
            if (reads > literal) {
                offences.add(cls + " reads a system property whose name is not a literal: declare a Setting");
            }
        }
        assertThat(offences).isEmpty();
    }

    /**
     * The rows of the README's settings table (the one headed {@code | property / env}; the build
     * switches' table after it is the build's, not the library's): every ticked name of the first
     * cell, mapped to the whole row.
     */
    private static Map<String, String> readmeRows() throws IOException {
        String readme = Files.readString(ROOT.resolve("README.md"));
        int start = readme.indexOf("\n## Settings");
        assertThat(start).as("README has a '## Settings' section").isPositive();
        int table = readme.indexOf("\n| property / env", start);
        assertThat(table).as("README's settings table, headed '| property / env'").isPositive();
        Map<String, String> rows = new LinkedHashMap<>();
        for (String line : readme.substring(table + 1).split("\n")) {
            if (!line.startsWith("|")) {
                break;
            }
            if (line.startsWith("| `")) {
                Matcher m = TICKED.matcher(line.split("\\|")[1]);
                while (m.find()) {
                    rows.put(m.group(1), line);
                }
            }
        }
        return rows;
    }

    private static String rowFor(Setting s) {
        return "| `" + s.name() + "`" + s.env().map(e -> " / `" + e + "`").orElse("") + " | "
                + (s.defaultValue().isEmpty() ? "—" : "`" + s.defaultValue() + "`") + " | " + s.doc() + " |";
    }

    @Test
    @DisplayName("the README's settings table lists every declared setting, its variable and default, and nothing else")
    void theReadmeTableMatchesTheDeclarations() throws Exception {
        List<Setting> declared = declared();
        Map<String, String> rows = readmeRows();
        Set<String> declaredNames = new TreeSet<>();
        List<String> missing = new ArrayList<>();
        for (Setting s : declared) {
            declaredNames.add(s.name());
            s.env().ifPresent(declaredNames::add);
            String row = rows.get(s.name());
            boolean ok = row != null && s.env().map(e -> row.contains("`" + e + "`")).orElse(true)
                    && (s.defaultValue().isEmpty() || row.contains("`" + s.defaultValue() + "`"));
            if (!ok) {
                missing.add(rowFor(s));
            }
        }
        assertThat(missing).as("README.md ## Settings: rows missing or wrong (expected rows shown)").isEmpty();
        assertThat(new TreeSet<>(rows.keySet())).as("README rows naming a setting nobody declares")
                .isSubsetOf(declaredNames);
    }

    @Test
    @DisplayName("a name two modules both read is declared alike in both (same variable and default)")
    void aSharedNameMeansOneSetting() throws Exception {
        Map<String, Setting> byName = new LinkedHashMap<>();
        Map<String, String> propertyOfVariable = new LinkedHashMap<>();
        for (Setting s : declared()) {
            Setting first = byName.putIfAbsent(s.name(), s);
            if (first != null) {
                assertThat(s.env()).as(s.name() + "'s variable").isEqualTo(first.env());
                assertThat(s.defaultValue()).as(s.name() + "'s default").isEqualTo(first.defaultValue());
            }
            s.env().ifPresent(e -> assertThat(propertyOfVariable.putIfAbsent(e, s.name()))
                    .as(e + " belongs to one property").isIn(null, s.name()));
        }
    }
}
