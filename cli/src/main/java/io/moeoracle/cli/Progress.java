package io.moeoracle.cli;

import java.io.PrintWriter;

/**
 * Shows a ticking line for a step that takes more than a second ("preparing weights ... 3.2 s"),
 * and one final line with the step's time; quiet for quick steps.
 */
final class Progress implements AutoCloseable {
    private final PrintWriter out;
    private final String what;
    private final long start = System.nanoTime();
    private final Thread ticker;
    private volatile boolean shown;

    Progress(PrintWriter out, String what) {
        this.out = out;
        this.what = what;
        this.ticker = Thread.ofVirtual().unstarted(this::tick);
        ticker.start();
    }

    private void tick() {
        String[] bar = {"|", "/", "-", "\\"};
        int i = 0;
        try {
            Thread.sleep(1000);
            while (!Thread.currentThread().isInterrupted()) {
                shown = true;
                synchronized (out) {
                    out.printf("\r%s %s %.1f s", bar[i++ % 4], what, (System.nanoTime() - start) / 1e9);
                    out.flush();
                }
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
        synchronized (out) {
            out.printf("%s%s: %.2f s%n", shown ? "\r" : "", what, (System.nanoTime() - start) / 1e9);
            out.flush();
        }
    }
}
