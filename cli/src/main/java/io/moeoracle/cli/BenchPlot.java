package io.moeoracle.cli;

import io.moeoracle.api.RooflineProbe;
import io.moeoracle.bench.BenchResult;
import io.moeoracle.bench.BenchRow;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Rectangle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.jfree.svg.SVGGraphics2D;
import org.jfree.svg.SVGUtils;

/**
 * Draws {@code bench} results as a picture (JFreeChart; SVG through JFreeSVG): time per forward
 * against T on log-log axes, one line per backend, with the memory floor ({@code bytes / bandwidth})
 * and the compute floor ({@code flops / peak}) as dashed lines; below it, each backend's ratio to
 * the roofline ({@code median / max(floors)}). A markdown file with the same numbers goes beside it.
 *
 * <p>The floors come from the best ceilings any of the runs measured (each backend's run measures
 * the device again; the best one is the device's) and from the bytes and flops of the first run
 * that measured them: every backend of one invocation runs the same seeded routings, so the bytes
 * a call must move are the same for all. A backend that multiplies FP8 / MXFP8 activations
 * ({@link BenchResult#fp8Activations()}) is held to the FP8 matmul rate where one was measured: its
 * compute floor and its ratio use that rate, and the top panel draws a second compute floor for it
 * ("compute floor FP8"); the others are held to the BF16 rate.
 */
final class BenchPlot {
    private static final int WIDTH = 1000;
    private static final int HEIGHT = 850;
    private static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
        new Color(0xff7f0e), new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x17becf)};

    private BenchPlot() {
    }

    /**
     * Writes the chart to {@code file} (PNG or SVG by its extension) and the markdown table beside it.
     *
     * @param results one per backend, in the order to draw them
     * @param file a {@code .png} or {@code .svg} path
     * @return the markdown file written
     * @throws IOException when a file cannot be written
     */
    static Path write(List<BenchResult> results, Path file) throws IOException {
        String format = format(file);
        checkOneDevice(results);
        if (file.toAbsolutePath().getParent() != null) {
            Files.createDirectories(file.toAbsolutePath().getParent());
        }
        JFreeChart chart = chart(results);
        if (format.equals("svg")) {
            SVGGraphics2D g = new SVGGraphics2D(WIDTH, HEIGHT);
            chart.draw(g, new Rectangle(0, 0, WIDTH, HEIGHT));
            SVGUtils.writeToSVG(file.toFile(), g.getSVGElement());
        } else {
            ChartUtils.saveChartAsPNG(file.toFile(), chart, WIDTH, HEIGHT);
        }
        Path md = BenchFiles.sibling(file, ".md");
        Files.writeString(md, "![" + title(results) + "](" + file.getFileName() + ")\n\n" + markdown(results));
        return md;
    }

    /**
     * @param file the --plot value
     * @return {@code png} or {@code svg}
     * @throws CliErrors.UsageException for any other extension
     */
    static String format(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".png")) {
            return "png";
        }
        if (name.endsWith(".svg")) {
            return "svg";
        }
        throw new CliErrors.UsageException("--plot " + file + ": the file name must end in .png or .svg");
    }

    /**
     * @param results runs to be drawn together
     * @throws CliErrors.UsageException when they were made on different devices (one roofline cannot hold them)
     */
    static void checkOneDevice(List<BenchResult> results) {
        if (results.isEmpty()) {
            throw new CliErrors.UsageException("nothing to plot: no bench result was given");
        }
        for (BenchResult r : results) {
            if (!r.deviceDescription().equals(results.getFirst().deviceDescription())) {
                throw new CliErrors.UsageException("the runs were made on different devices (" + results.getFirst()
                        .backend() + " on " + results.getFirst().deviceDescription() + ", " + r.backend() + " on "
                        + r.deviceDescription() + "); one plot holds one device's roofline: plot each device apart");
            }
        }
    }

    /**
     * @param results the runs
     * @return a markdown table: one row per backend and T, with the floors and the ratio
     */
    static String markdown(List<BenchResult> results) {
        StringBuilder sb = new StringBuilder();
        sb.append("| backend | T | median µs | p10 µs | p90 µs | memory floor µs | compute floor µs | ratio to roofline | GB/s | GFLOP/s |\n");
        sb.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        Optional<RooflineProbe.Ceilings> c = bestCeilings(results);
        for (BenchResult r : results) {
            for (BenchRow row : r.rows()) {
                sb.append(String.format(Locale.ROOT, "| %s | %d | %.1f | %.1f | %.1f | %s | %s | %s | %.2f | %.2f |%n",
                        r.backend() + (usesFp8Rate(r, c) ? " (FP8)" : ""), row.tokens(), row.medianMicros(),
                        row.p10Micros(), row.p90Micros(),
                        c.map(x -> fmt(memoryFloor(row, x))).orElse("n/a"),
                        c.map(x -> fmt(computeFloor(row, x, r))).orElse("n/a"),
                        c.map(x -> String.format(Locale.ROOT, "%.2f", row.medianMicros() / floor(row, x, r))).orElse("n/a"),
                        row.gbPerSecond(), row.gflopsPerSecond()));
            }
        }
        c.ifPresent(x -> sb.append(String.format(Locale.ROOT,
                "%nCeilings (best of all runs): %.1f GB/s (%s); %s BF16 (%s).%n", x.bytesPerSecond() / 1e9,
                x.bandwidthMethod(), flopRate(x.flopsPerSecond()), x.flopsMethod())));
        if (c.isPresent() && c.get().hasFp8Rate()) {
            boolean anyFp8 = results.stream().anyMatch(r -> usesFp8Rate(r, c));
            sb.append(String.format(Locale.ROOT, "FP8 matmul ceiling: %s (%s); %s.%n",
                    flopRate(c.get().fp8FlopsPerSecond()), c.get().fp8FlopsMethod(), anyFp8
                            ? "the backends marked (FP8) multiply FP8 activations and are held to it"
                            : "no backend here multiplies FP8 activations"));
        }
        for (BenchResult r : results) {
            if (!r.spec().equals(results.getFirst().spec())) {
                sb.append(String.format(Locale.ROOT, "%s ran %s; the title names %s's layer, %s.%n", r.backend(),
                        r.spec(), results.getFirst().backend(), results.getFirst().spec()));
            }
        }
        return sb.toString();
    }

    static JFreeChart chart(List<BenchResult> results) {
        LogAxis tokens = decades(new LogAxis("tokens per call (T)"), 2, "0");
        tokens.setSmallestValue(0.5);
        XYSeriesCollection times = new XYSeriesCollection();
        XYSeriesCollection ratios = new XYSeriesCollection();
        for (BenchResult r : results) {
            XYSeries t = new XYSeries(r.backend());
            XYSeries q = new XYSeries(r.backend());
            for (BenchRow row : r.rows()) {
                t.add(row.tokens(), row.medianMicros());
            }
            bestCeilings(results).ifPresent(c -> r.rows().forEach(row -> q.add(row.tokens(), row.medianMicros() / floor(row, c, r))));
            times.addSeries(t);
            ratios.addSeries(q);
        }
        int backends = times.getSeriesCount();
        XYLineAndShapeRenderer timeLines = new XYLineAndShapeRenderer(true, true);
        Optional<RooflineProbe.Ceilings> c = bestCeilings(results);
        Optional<BenchResult> floorSource = results.stream().filter(r -> r.ceilings().isPresent()).findFirst();
        if (c.isPresent() && floorSource.isPresent()) {
            XYSeries memory = new XYSeries(String.format(Locale.ROOT, "memory floor (%.1f GB/s)", c.get().bytesPerSecond() / 1e9));
            for (BenchRow row : floorSource.get().rows()) {
                memory.add(row.tokens(), memoryFloor(row, c.get()));
            }
            times.addSeries(memory);
            // one compute floor per rate the backends are held to: BF16, and FP8 when a backend multiplies FP8
            boolean anyBf16 = results.stream().anyMatch(r -> !usesFp8Rate(r, c));
            boolean anyFp8 = results.stream().anyMatch(r -> usesFp8Rate(r, c));
            for (boolean fp8 : new boolean[] {false, true}) {
                if (fp8 ? !anyFp8 : !anyBf16) {
                    continue;
                }
                BenchResult source = results.stream().filter(r -> usesFp8Rate(r, c) == fp8).findFirst().orElseThrow();
                double rate = c.get().computeRate(fp8);
                XYSeries compute = new XYSeries(String.format(Locale.ROOT, "compute floor%s (%s)",
                        anyFp8 ? (fp8 ? " FP8" : " BF16") : "", flopRate(rate)));
                for (BenchRow row : source.rows()) {
                    compute.add(row.tokens(), row.flops() / rate * 1e6);
                }
                times.addSeries(compute);
            }
            BasicStroke dashed = new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {8f, 6f}, 0f);
            BasicStroke dotted = new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {2f, 4f}, 0f);
            for (int i = backends; i < times.getSeriesCount(); i++) {
                timeLines.setSeriesStroke(i, i == backends + 2 ? dotted : dashed);
                timeLines.setSeriesShapesVisible(i, false);
                timeLines.setSeriesPaint(i, i == backends ? Color.DARK_GRAY : Color.GRAY);
            }
        }
        XYLineAndShapeRenderer ratioLines = new XYLineAndShapeRenderer(true, true);
        ratioLines.setDefaultSeriesVisibleInLegend(false); // the same backends as above, in the same colours
        for (int i = 0; i < backends; i++) {
            Color colour = PALETTE[i % PALETTE.length];
            for (XYLineAndShapeRenderer r : List.of(timeLines, ratioLines)) {
                r.setSeriesStroke(i, new BasicStroke(2f));
                r.setSeriesPaint(i, colour);
            }
            ratioLines.setSeriesShape(i, timeLines.lookupSeriesShape(i));
        }
        LogAxis micros = decades(new LogAxis("µs per forward (median)"), 10, "0.###");
        micros.setSmallestValue(1e-3);
        XYPlot top = new XYPlot(times, null, micros, timeLines);
        // powers of two, from just below 1 (the roofline, marked) to just above the worst ratio
        LogAxis ratioAxis = decades(new LogAxis("ratio to roofline (1 = on it)"), 2, "0.##");
        ratioAxis.setSmallestValue(1e-2);
        double worst = 1;
        double best = 1;
        for (int i = 0; i < ratios.getSeriesCount(); i++) {
            for (int j = 0; j < ratios.getItemCount(i); j++) {
                double v = ratios.getYValue(i, j);
                if (Double.isFinite(v) && v > 0) {
                    worst = Math.max(worst, v);
                    best = Math.min(best, v);
                }
            }
        }
        ratioAxis.setRange(best / 1.25, Math.max(2, worst * 1.25));
        XYPlot bottom = new XYPlot(ratios, null, ratioAxis, ratioLines);
        bottom.addRangeMarker(new ValueMarker(1.0, Color.DARK_GRAY, new BasicStroke(1f)));
        for (XYPlot p : List.of(top, bottom)) {
            p.setBackgroundPaint(Color.WHITE);
            p.setDomainGridlinePaint(Color.LIGHT_GRAY);
            p.setRangeGridlinePaint(Color.LIGHT_GRAY);
        }
        CombinedDomainXYPlot plot = new CombinedDomainXYPlot(tokens);
        plot.setGap(12);
        plot.add(top, 3);
        plot.add(bottom, 2);
        JFreeChart chart = new JFreeChart(title(results), JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        chart.addSubtitle(new TextTitle(subtitle(results)));
        chart.setBackgroundPaint(Color.WHITE);
        return chart;
    }

    /** One tick per power of {@code base}, labelled as plain numbers (1, 2, 4, ... or 0.1, 1, 10, ...). */
    private static LogAxis decades(LogAxis axis, double base, String format) {
        axis.setBase(base);
        axis.setTickUnit(new NumberTickUnit(1));
        axis.setNumberFormatOverride(new DecimalFormat(format, DecimalFormatSymbols.getInstance(Locale.ROOT)));
        axis.setMinorTickCount(base == 10 ? 9 : 0);
        axis.setMinorTickMarksVisible(base == 10);
        return axis;
    }

    /** @return a rate in the unit people quote: TFLOP/s from one TFLOP/s up, else GFLOP/s */
    static String flopRate(double flopsPerSecond) {
        return flopsPerSecond >= 1e12 ? String.format(Locale.ROOT, "%.1f TFLOP/s", flopsPerSecond / 1e12)
                : String.format(Locale.ROOT, "%.1f GFLOP/s", flopsPerSecond / 1e9);
    }

    private static String subtitle(List<BenchResult> results) {
        BenchResult first = results.getFirst();
        return String.format(Locale.ROOT, "median of %d timed calls per T after %d warm-up; floors from the best"
                + " ceilings the runs measured; %s", first.iterations(), first.warmupIterations(),
                first.timestamp().toString().substring(0, Math.min(10, first.timestamp().toString().length())));
    }

    private static String title(List<BenchResult> results) {
        BenchResult first = results.getFirst();
        return first.spec() + " on " + first.deviceDescription();
    }

    /** @return the highest bandwidth and the highest flop rate any run measured */
    static Optional<RooflineProbe.Ceilings> bestCeilings(List<BenchResult> results) {
        return results.stream().flatMap(r -> r.ceilings().stream()).reduce(BenchPlot::better);
    }

    /** @return each ceiling at the better of the two, with its method; an FP8 rate where either has one */
    private static RooflineProbe.Ceilings better(RooflineProbe.Ceilings a, RooflineProbe.Ceilings b) {
        RooflineProbe.Ceilings fp8 = !b.hasFp8Rate() || a.hasFp8Rate() && a.fp8FlopsPerSecond() >= b.fp8FlopsPerSecond()
                ? a : b;
        return new RooflineProbe.Ceilings(Math.max(a.bytesPerSecond(), b.bytesPerSecond()),
                Math.max(a.flopsPerSecond(), b.flopsPerSecond()),
                a.bytesPerSecond() >= b.bytesPerSecond() ? a.bandwidthMethod() : b.bandwidthMethod(),
                a.flopsPerSecond() >= b.flopsPerSecond() ? a.flopsMethod() : b.flopsMethod(),
                fp8.fp8FlopsPerSecond(), fp8.fp8FlopsMethod());
    }

    private static double memoryFloor(BenchRow row, RooflineProbe.Ceilings c) {
        return row.bytes() / c.bytesPerSecond() * 1e6;
    }

    /** @return whether the run is held to the FP8 rate: it multiplies FP8 activations and an FP8 rate was measured */
    static boolean usesFp8Rate(BenchResult r, Optional<RooflineProbe.Ceilings> c) {
        return r.fp8Activations() && c.isPresent() && c.get().hasFp8Rate();
    }

    private static double computeFloor(BenchRow row, RooflineProbe.Ceilings c, BenchResult r) {
        return row.flops() / c.computeRate(r.fp8Activations()) * 1e6;
    }

    private static double floor(BenchRow row, RooflineProbe.Ceilings c, BenchResult r) {
        return Math.max(memoryFloor(row, c), computeFloor(row, c, r));
    }

    private static String fmt(double micros) {
        return String.format(Locale.ROOT, "%.1f", micros);
    }

}
