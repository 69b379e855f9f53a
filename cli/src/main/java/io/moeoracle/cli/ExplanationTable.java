package io.moeoracle.cli;

import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.core.select.Explanation;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import picocli.CommandLine;

/**
 * Renders an {@link Explanation} as a text table that fits a terminal: the short columns (rank,
 * backend, priority, activation type, verdict) stay aligned, and the long ones (reason, remedy,
 * host, where the provider came from) go in the last column, wrapped at word boundaries, one
 * labelled line each.
 */
final class ExplanationTable {
    /** The width used when the terminal's is unknown. */
    static final int DEFAULT_WIDTH = 100;
    /** Narrower than this, the last column goes under its row. */
    private static final int MIN_DETAIL_WIDTH = 30;
    /** The backend column is at most this wide; longer ids wrap inside it. */
    private static final int MAX_ID_WIDTH = 24;
    /** How far the long column is indented when it goes under its row. */
    private static final int STACK_INDENT = 4;
    private static final String[] HEADER = {"#", "backend", "priority", "act", "verdict", "reason / remedy / host / from"};

    private final int width;
    private final Function<String, String> origin;

    /**
     * @param width the terminal's width in columns
     * @param origin turns a row's source into what the "from" line shows (a jar path, "built in"),
     *     or an empty string for no such line
     */
    ExplanationTable(int width, Function<String, String> origin) {
        this.width = Math.max(width, 40);
        this.origin = origin;
    }

    /**
     * @param e the explanation
     * @return the layer and device, the table, the outcome and the hint, each line within the width
     */
    String render(Explanation e) {
        StringBuilder sb = new StringBuilder();
        appendWrapped(sb, "layer:   ", e.spec().describe());
        appendWrapped(sb, "device:  ", e.device().describe());
        e.request().ifPresent(r -> appendWrapped(sb, "request: ", r.toString()));
        sb.append('\n');
        List<Explanation.Row> all = new ArrayList<>(e.rows());
        all.addAll(e.notInstalled());
        if (all.isEmpty()) {
            sb.append("(no kernel backends found)\n");
        } else {
            appendRows(sb, all);
        }
        sb.append('\n').append(e.summary()).append('\n');
        e.hint().ifPresent(h -> appendWrapped(sb, "hint: ", h));
        return sb.toString();
    }

    private void appendRows(StringBuilder sb, List<Explanation.Row> all) {
        List<String[]> fixed = new ArrayList<>();
        for (Explanation.Row r : all) {
            fixed.add(new String[] {
                r.rank() > 0 ? Integer.toString(r.rank()) : "-",
                r.providerId(),
                r.priority().isPresent() ? Integer.toString(r.priority().getAsInt()) : "-",
                r.activationType().map(ActivationType::toString).orElse("-"),
                r.status().label()});
        }
        int[] w = new int[HEADER.length - 1];
        for (int c = 0; c < w.length; c++) {
            w[c] = HEADER[c].length();
            for (String[] row : fixed) {
                w[c] = Math.max(w[c], row[c].length());
            }
        }
        // a long id (a broken provider's class name) wraps inside its column rather than pushing the others out
        w[1] = Math.min(w[1], Math.max(HEADER[1].length(), Math.min(MAX_ID_WIDTH, width / 4)));
        int indent = 0;
        for (int c : w) {
            indent += c + 2;
        }
        // on a narrow terminal the long column moves under its row instead of squeezing beside it
        boolean stacked = width - indent < MIN_DETAIL_WIDTH;
        int detailWidth = stacked ? width - STACK_INDENT : width - indent;
        sb.append(line(HEADER, w, List.of(), 0, stacked ? "" : HEADER[HEADER.length - 1])).append('\n');
        for (int i = 0; i < all.size(); i++) {
            List<String> ids = wrapId(fixed.get(i)[1], w[1]);
            List<String> details = details(all.get(i), detailWidth);
            int height = stacked ? ids.size() : Math.max(ids.size(), details.size());
            for (int k = 0; k < height; k++) {
                String[] cells = k == 0 ? fixed.get(i) : new String[] {"", "", "", "", ""};
                String last = stacked || k >= details.size() ? "" : details.get(k);
                sb.append(line(cells, w, ids, k, last)).append('\n');
            }
            if (stacked) {
                for (String d : details) {
                    sb.append(" ".repeat(STACK_INDENT)).append(d).append('\n');
                }
            }
        }
    }

    /**
     * @return the terminal's width: {@code COLUMNS} when set (the launcher sets it on a terminal),
     *     else what picocli detects on a terminal, else {@link #DEFAULT_WIDTH}
     */
    static int terminalWidth() {
        String cols = System.getenv("COLUMNS");
        if (cols != null) {
            try {
                int c = Integer.parseInt(cols.strip());
                if (c > 0) {
                    return c;
                }
            } catch (NumberFormatException e) {
                // not a number: detect below
            }
        }
        java.io.Console console = System.console();
        if (console != null && console.isTerminal()) {
            return CommandLine.Model.CommandSpec.create().usageMessage().autoWidth(true).width();
        }
        return DEFAULT_WIDTH;
    }

    private List<String> details(Explanation.Row r, int w) {
        List<String> out = new ArrayList<>(wrap(oneLine(r.reason()), w, ""));
        if (!r.remedy().isBlank()) {
            out.addAll(wrap("fix: " + oneLine(r.remedy()), w, "  "));
        }
        out.addAll(wrap("host: " + oneLine(r.host().toString()), w, "  "));
        String from = origin.apply(r.source());
        if (!from.isEmpty()) {
            out.addAll(wrap("from: " + from, w, "  "));
        }
        return out;
    }

    private static String line(String[] cells, int[] w, List<String> ids, int k, String last) {
        StringBuilder sb = new StringBuilder();
        for (int c = 0; c < w.length; c++) {
            String cell = c == 1 && !ids.isEmpty() ? (k < ids.size() ? ids.get(k) : "") : cells[c];
            sb.append(cell).append(" ".repeat(Math.max(0, w[c] - cell.length()) + 2));
        }
        return sb.append(last).toString().stripTrailing();
    }

    private void appendWrapped(StringBuilder sb, String label, String text) {
        List<String> lines = wrap(oneLine(text), width - label.length(), "");
        sb.append(label).append(lines.getFirst()).append('\n');
        for (String l : lines.subList(1, lines.size())) {
            sb.append(" ".repeat(label.length())).append(l).append('\n');
        }
    }

    /**
     * Wraps text at spaces; a word longer than the width (a path) is cut.
     *
     * @param text one line of text
     * @param w the width
     * @param hang what continuation lines start with
     * @return the lines, at least one
     */
    static List<String> wrap(String text, int w, String hang) {
        List<String> lines = new ArrayList<>();
        String cur = "";
        for (String word : text.split(" ")) {
            String rest = word;
            while (!rest.isEmpty()) {
                String prefix = lines.isEmpty() ? "" : hang;
                String candidate = cur.isEmpty() ? prefix + rest : cur + " " + rest;
                if (candidate.length() <= w) {
                    cur = candidate;
                    rest = "";
                } else if (!cur.isEmpty()) {
                    lines.add(cur);
                    cur = "";
                } else {
                    // one word wider than a line (a path): cut it
                    int take = Math.max(1, w - prefix.length());
                    lines.add(prefix + rest.substring(0, take));
                    rest = rest.substring(take);
                }
            }
        }
        if (!cur.isEmpty() || lines.isEmpty()) {
            lines.add(cur);
        }
        return lines;
    }

    /** Wraps an id (a class name for a provider that failed to load) after its dots where it can. */
    static List<String> wrapId(String id, int w) {
        List<String> lines = new ArrayList<>();
        String cur = "";
        for (String part : id.split("(?<=\\.)")) {
            if (!cur.isEmpty() && cur.length() + part.length() > w) {
                lines.add(cur);
                cur = "";
            }
            cur += part;
            while (cur.length() > w) {
                lines.add(cur.substring(0, w));
                cur = cur.substring(w);
            }
        }
        if (!cur.isEmpty() || lines.isEmpty()) {
            lines.add(cur);
        }
        return lines;
    }

    private static String oneLine(String s) {
        return s.strip().replaceAll("\\s*\\R\\s*", " ");
    }
}
