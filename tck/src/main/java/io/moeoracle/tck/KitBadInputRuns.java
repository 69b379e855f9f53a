package io.moeoracle.tck;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The bad-input group's forked runs: every {@link BadInputCase} of a kit class runs once, in forked
 * JVMs, the first time one of its tests asks; a JVM that dies fails its case and the rest run in a new one.
 */
final class KitBadInputRuns {
    /** Results of the forked bad-input runs, per kit class: case name to failure (empty when it passed). */
    private static final Map<Class<?>, Map<String, Optional<String>>> RESULTS = new ConcurrentHashMap<>();

    private KitBadInputRuns() {
    }

    /**
     * @param kitClass the backend's kit class (instantiated again in the forked JVM)
     * @return case name to failure (empty when it passed); a case the forked JVMs never reported is absent
     */
    static Map<String, Optional<String>> results(Class<?> kitClass) {
        return RESULTS.computeIfAbsent(kitClass, KitBadInputRuns::runForked);
    }

    private static Map<String, Optional<String>> runForked(Class<?> kitClass) {
        Map<String, Optional<String>> results = new LinkedHashMap<>();
        List<String> left = new ArrayList<>();
        for (BadInputCase c : BadInputCase.values()) {
            left.add(c.name());
        }
        while (!left.isEmpty()) {
            List<String> args = new ArrayList<>(List.of("bad-input", kitClass.getName()));
            args.addAll(left);
            KitFork.Result r = KitFork.run(args);
            String running = null;
            for (String line : r.reports()) {
                String[] parts = line.split(" ", 3);
                switch (parts[0]) {
                    case "start" -> running = parts[1];
                    case "pass" -> results.put(parts[1], Optional.empty());
                    case "fail" -> results.put(parts[1], Optional.of(parts.length > 2 ? parts[2] : "failed"));
                    default -> { }
                }
                if (!parts[0].equals("start")) {
                    left.remove(parts[1]);
                    running = null;
                }
            }
            if (!left.isEmpty()) {
                String victim = running != null ? running : left.getFirst();
                String why = running != null ? "crashed the JVM: " + r.describeDeath()
                        : "the forked JVM ran no case: " + r.describeDeath();
                results.put(victim, Optional.of(why));
                left.remove(victim);
                if (running == null) {
                    for (String rest : left) {
                        results.put(rest, Optional.of(why));
                    }
                    left.clear();
                }
            }
        }
        return results;
    }
}
