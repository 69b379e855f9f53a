package io.moeoracle.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
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
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * The module table of docs/architecture.md, the README's module table, the reactor, the BOM and
 * every module's compile dependencies say the same thing. ({@link ArchitectureTest} holds the
 * classes to the same table.)
 */
class ModuleTableTest {
    private static final Path ROOT = Path.of("..");
    /** Third-party compile dependencies a row may name, by the words the table uses for them. */
    private static final Map<String, String> LIBRARY_WORDS = Map.of(
            "slf4j-api", "SLF4J API", "guice", "Guice", "picocli", "picocli", "junit-jupiter-api", "JUnit",
            "jfreechart", "JFreeChart", "org.jfree.svg", "JFreeSVG");
    private static final Pattern TICKED = Pattern.compile("`([^`]+)`");

    /** One row of the architecture table. */
    record Row(String module, String artifact, String pkg, String mayDependOn) {
    }

    private static Map<String, Row> architectureTable() throws IOException {
        Map<String, Row> rows = new LinkedHashMap<>();
        for (String line : Files.readAllLines(ROOT.resolve("docs/architecture.md"))) {
            if (line.startsWith("| `")) {
                String[] cells = line.split("\\|");
                Row r = new Row(ticked(cells[1]), ticked(cells[2]), cells[3].strip(), cells[4].strip());
                rows.put(r.module(), r);
            }
        }
        return rows;
    }

    private static Set<String> readmeModules() throws IOException {
        String readme = Files.readString(ROOT.resolve("README.md"));
        int start = readme.indexOf("\n## Modules");
        assertThat(start).as("README has a '## Modules' section").isPositive();
        int end = readme.indexOf("\n## ", start + 1);
        Set<String> names = new TreeSet<>();
        for (String line : readme.substring(start, end < 0 ? readme.length() : end).split("\n")) {
            if (line.startsWith("| `")) {
                names.add(ticked(line.split("\\|")[1]));
            }
        }
        return names;
    }

    private static String ticked(String cell) {
        Matcher m = TICKED.matcher(cell);
        return m.find() ? m.group(1) : cell.strip();
    }

    private static Element pom(Path file) throws Exception {
        return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(file.toFile()).getDocumentElement();
    }

    private static List<Element> children(Element parent, String name) {
        List<Element> out = new ArrayList<>();
        for (Node n = parent == null ? null : parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(name)) {
                out.add(e);
            }
        }
        return out;
    }

    private static Element child(Element parent, String name) {
        List<Element> c = children(parent, name);
        return c.isEmpty() ? null : c.getFirst();
    }

    private static String text(Element parent, String name) {
        Element e = child(parent, name);
        return e == null ? "" : e.getTextContent().strip();
    }

    private static Set<String> reactorModules() throws Exception {
        Set<String> names = new TreeSet<>();
        children(child(pom(ROOT.resolve("pom.xml")), "modules"), "module").forEach(m -> names.add(m.getTextContent().strip()));
        return names;
    }

    @Test
    @DisplayName("the reactor, docs/architecture.md and the README list the same modules")
    void sameModulesEverywhere() throws Exception {
        Set<String> reactor = reactorModules();
        assertThat(new TreeSet<>(architectureTable().keySet())).as("docs/architecture.md").isEqualTo(reactor);
        assertThat(readmeModules()).as("README.md ## Modules").isEqualTo(reactor);
    }

    @Test
    @DisplayName("each module's artifact and JPMS module are the ones its row names, and the BOM lists every artifact")
    void artifactsAndModuleNames() throws Exception {
        Set<String> bom = new TreeSet<>();
        Element bomDeps = child(child(pom(ROOT.resolve("bom/pom.xml")), "dependencyManagement"), "dependencies");
        children(bomDeps, "dependency").forEach(d -> bom.add(text(d, "artifactId")));
        for (Row row : architectureTable().values()) {
            Path dir = ROOT.resolve(row.module());
            assertThat(text(pom(dir.resolve("pom.xml")), "artifactId")).as(row.module()).isEqualTo(row.artifact());
            Path descriptor = dir.resolve("src/main/java/module-info.java");
            if (Files.exists(descriptor)) {
                Matcher m = Pattern.compile("(?m)^module\\s+([\\w.]+)").matcher(Files.readString(descriptor));
                assertThat(m.find()).as(descriptor.toString()).isTrue();
                assertThat(row.pkg()).as(row.module() + " package column").contains("`" + m.group(1) + "`");
                assertThat(bom).as("bom/pom.xml").contains(row.artifact());
            }
        }
    }

    @Test
    @DisplayName("no module's pom compiles against a module or library that its row does not allow")
    void compileDependenciesFollowTheTable() throws Exception {
        Map<String, Row> table = architectureTable();
        Map<String, String> moduleByArtifact = new LinkedHashMap<>();
        table.values().forEach(r -> moduleByArtifact.put(r.artifact(), r.module()));
        for (Row row : table.values()) {
            if (row.mayDependOn().equals("everything")) {
                continue;
            }
            Set<String> allowedModules = new TreeSet<>();
            Matcher m = TICKED.matcher(row.mayDependOn());
            while (m.find()) {
                allowedModules.add(m.group(1));
            }
            Element deps = child(pom(ROOT.resolve(row.module()).resolve("pom.xml")), "dependencies");
            for (Element d : children(deps, "dependency")) {
                String scope = text(d, "scope");
                if (!scope.isEmpty() && !scope.equals("compile")) {
                    continue; // test and run-time scopes are not what the main code compiles against
                }
                String artifact = text(d, "artifactId");
                String what = row.module() + " -> " + artifact;
                if (moduleByArtifact.containsKey(artifact)) {
                    assertThat(allowedModules).as(what).contains(moduleByArtifact.get(artifact));
                } else {
                    assertThat(LIBRARY_WORDS).as(what + " (a library the table does not know: add it)").containsKey(artifact);
                    assertThat(row.mayDependOn()).as(what).contains(LIBRARY_WORDS.get(artifact));
                }
            }
        }
    }
}
