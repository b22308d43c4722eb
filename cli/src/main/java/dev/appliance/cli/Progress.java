package dev.appliance.cli;

import java.io.PrintWriter;

/**
 * A transfer's progress on one line of stderr, redrawn at most five times a second: {@code 60.34 MB 8.77 MB/s}
 * while the total is unknown, {@code 62.29 MB / 62.29 MB [=====] 100.00 % 4.96 MB/s} when it is known.
 */
final class Progress {
    private static final long REDRAW_NANOS = 200_000_000L;
    private static final int BAR = 20;
    private final PrintWriter err;
    private final long total;
    private final long started = System.nanoTime();
    private long drawnAt;
    private int width;

    /** @param total the bytes expected, or -1 when unknown */
    Progress(PrintWriter err, long total) {
        this.err = err;
        this.total = total;
    }

    synchronized void update(long bytes) {
        long now = System.nanoTime();
        if (now - drawnAt >= REDRAW_NANOS) {
            drawnAt = now;
            draw(bytes, now);
        }
    }

    synchronized void done(long bytes) {
        draw(bytes, System.nanoTime());
        err.println();
        err.flush();
    }

    private void draw(long bytes, long now) {
        double seconds = Math.max(1e-3, (now - started) / 1e9);
        String rate = mb(bytes / seconds) + "/s";
        String line;
        if (total > 0) {
            double fraction = Math.min(1.0, (double) bytes / total);
            int filled = (int) Math.round(fraction * BAR);
            line = String.format("%s / %s [%s%s] %6.2f %% %s", mb(bytes), mb(total), "=".repeat(filled),
                    " ".repeat(BAR - filled), fraction * 100, rate);
        } else {
            line = mb(bytes) + " " + rate;
        }
        String pad = line.length() < width ? " ".repeat(width - line.length()) : "";
        width = line.length();
        err.print("\r" + line + pad);
        err.flush();
    }

    static String mb(double bytes) {
        return String.format("%.2f MB", bytes / 1_000_000);
    }
}
