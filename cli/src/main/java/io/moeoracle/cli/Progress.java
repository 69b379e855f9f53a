package io.moeoracle.cli;

import io.moeoracle.api.ProgressListener;
import java.io.PrintWriter;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shows how far a long step has come. On a terminal: a bar redrawn in place four times a second
 * once the step has taken a second ({@code [#########-----------]  45%  timing T=64  3.2 s, ~4 s left}),
 * or a ticking timer while no fraction is known. Elsewhere (logs, pipes): a plain log line when the
 * stage changes or every 5 seconds. Always one final line with the step's time.
 */
final class Progress implements AutoCloseable, ProgressListener {
    private static final Logger LOG = LoggerFactory.getLogger(Progress.class);
    private static final int BAR = 24;
    private static final long PLAIN_EVERY_NANOS = 5_000_000_000L;

    private final PrintWriter out;
    private final String what;
    private final boolean terminal;
    private final long start = System.nanoTime();
    private final Thread ticker;
    private volatile boolean shown;
    private volatile double fraction = Double.NaN;
    private volatile String stage = "";
    private String lastPlainStage = "";
    private long lastPlainAt = start;
    private int lastWidth;

    Progress(PrintWriter out, String what) {
        this(out, what, isTerminal());
    }

    Progress(PrintWriter out, String what, boolean terminal) {
        this.out = out;
        this.what = what;
        this.terminal = terminal;
        this.ticker = Thread.ofVirtual().unstarted(this::tick);
        if (terminal) {
            ticker.start();
        }
    }

    private static boolean isTerminal() {
        java.io.Console console = System.console();
        return console != null && console.isTerminal();
    }

    @Override
    public void progress(double fractionDone, String newStage) {
        double f = Math.clamp(fractionDone, 0.0, 1.0);
        fraction = Double.isNaN(fraction) ? f : Math.max(fraction, f);
        stage = newStage;
        if (!terminal) {
            long now = System.nanoTime();
            synchronized (this) {
                if (!newStage.equals(lastPlainStage) || now - lastPlainAt >= PLAIN_EVERY_NANOS) {
                    lastPlainStage = newStage;
                    lastPlainAt = now;
                    LOG.info("{}: {}", what, line(fraction, (now - start) / 1e9, newStage));
                }
            }
        }
    }

    /** @return the highest fraction heard so far, NaN before the first */
    double fraction() {
        return fraction;
    }

    /**
     * @param fraction done, 0 to 1, or NaN when unknown
     * @param elapsedSeconds since the step began
     * @param stage what is being done now
     * @return {@code [####----]  45%  stage  3.2 s, ~4 s left}; without the bar and the estimate
     *     while the fraction is unknown, and without the estimate before there is anything to go on
     */
    static String line(double fraction, double elapsedSeconds, String stage) {
        String tail = stage.isEmpty() ? "" : "  " + stage;
        if (Double.isNaN(fraction)) {
            return String.format(Locale.ROOT, "%.1f s%s", elapsedSeconds, tail);
        }
        int filled = (int) Math.round(fraction * BAR);
        String bar = "#".repeat(filled) + "-".repeat(BAR - filled);
        String left = fraction >= 0.01 && fraction < 1
                ? ", ~" + seconds(elapsedSeconds * (1 - fraction) / fraction) + " left" : "";
        return String.format(Locale.ROOT, "[%s] %3d%%%s  %.1f s%s", bar, (int) Math.floor(fraction * 100), tail,
                elapsedSeconds, left);
    }

    private static String seconds(double s) {
        return s < 90 ? String.format(Locale.ROOT, "%.0f s", Math.ceil(s))
                : String.format(Locale.ROOT, "%d min %02d s", (long) s / 60, (long) s % 60);
    }

    private void tick() {
        String[] spinner = {"|", "/", "-", "\\"};
        int i = 0;
        try {
            Thread.sleep(1000);
            while (!Thread.currentThread().isInterrupted()) {
                shown = true;
                double f = fraction;
                String text = (Double.isNaN(f) ? spinner[i++ % 4] + " " : "") + what + " "
                        + line(f, (System.nanoTime() - start) / 1e9, stage);
                synchronized (out) {
                    // pad over a longer previous line
                    out.print("\r" + text + " ".repeat(Math.max(0, lastWidth - text.length())));
                    out.flush();
                }
                lastWidth = text.length();
                Thread.sleep(250);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        ticker.interrupt();
        try {
            ticker.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        String text = String.format(Locale.ROOT, "%s: %.2f s", what, (System.nanoTime() - start) / 1e9);
        synchronized (out) {
            out.printf("%s%s%s%n", shown ? "\r" : "", text, " ".repeat(Math.max(0, lastWidth - text.length())));
            out.flush();
        }
    }
}
