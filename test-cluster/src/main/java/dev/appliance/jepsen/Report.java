package dev.appliance.jepsen;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A run's page: the checkers' verdicts, throughput and latency over time as inline SVG, with the fault windows
 * shaded. One self-contained file with no scripts or links, so it opens from disk anywhere.
 */
public final class Report {
    private static final int WIDTH = 960;
    private static final int HEIGHT = 260;
    private static final int LEFT = 60;
    private static final int MAX_POINTS = 6000;
    private static final Map<String, String> COLORS = Map.of("append", "#1f77b4", "register", "#2ca02c", "bank", "#9467bd");

    private Report() {
    }

    private record Window(double from, double to, String label) {
    }

    public static void write(Path file, String title, History history, List<CheckResult> results) throws IOException {
        List<History.Pair> pairs = history.pairs();
        List<Op> ops = history.ops();
        double end = Math.max(1, ops.isEmpty() ? 1 : ops.get(ops.size() - 1).time() / 1e9);
        List<Window> faults = faults(ops, end);
        StringBuilder h = new StringBuilder();
        h.append("<!doctype html><html><head><meta charset=\"utf-8\"><title>").append(esc(title)).append("</title><style>")
                .append("body{font:14px sans-serif;margin:24px;color:#222}table{border-collapse:collapse}")
                .append("td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}.valid{color:#070}.invalid{color:#b00;"
                        + "font-weight:bold}.unknown{color:#a60}svg{background:#fafafa;border:1px solid #ddd}")
                .append("</style></head><body><h1>").append(esc(title)).append("</h1>");
        h.append("<table><tr><th>checker</th><th>verdict</th><th>summary</th></tr>");
        for (CheckResult r : results) {
            String v = r.verdict().name().toLowerCase(Locale.ROOT);
            h.append("<tr><td>").append(esc(r.checker())).append("</td><td class=\"").append(v).append("\">").append(v)
                    .append("</td><td>").append(esc(r.summary())).append("</td></tr>");
        }
        h.append("</table><p>").append(ops.size()).append(" history lines, ").append(faults.size())
                .append(" fault windows (shaded). Times are seconds from the start of the run.</p>");
        h.append("<h2>Throughput (acknowledged operations per second)</h2>").append(throughput(pairs, faults, end));
        h.append("<h2>Latency (ms, log scale; ok ● failed ▲ unknown ✕)</h2>").append(latency(pairs, faults, end));
        h.append("<h2>Faults</h2><ul>");
        for (Window w : faults) {
            h.append("<li>").append(String.format(Locale.ROOT, "%.1f-%.1f s: ", w.from(), w.to())).append(esc(w.label()))
                    .append("</li>");
        }
        h.append("</ul></body></html>\n");
        Files.writeString(file, h, StandardCharsets.UTF_8);
    }

    private static List<Window> faults(List<Op> ops, double end) {
        List<Window> out = new ArrayList<>();
        Op open = null;
        for (Op op : ops) {
            if (!op.nemesis() || op.f().equals("error") || op.f().endsWith("-skipped")) {
                continue;
            }
            if (op.f().equals("heal")) {
                if (open != null) {
                    out.add(new Window(open.time() / 1e9, op.time() / 1e9, label(open)));
                    open = null;
                }
            } else {
                if (open != null) {
                    out.add(new Window(open.time() / 1e9, op.time() / 1e9, label(open)));
                }
                open = op;
            }
        }
        if (open != null) {
            out.add(new Window(open.time() / 1e9, end, label(open)));
        }
        return out;
    }

    private static String label(Op fault) {
        return fault.f() + (fault.error() == null ? "" : " " + fault.error());
    }

    private static String workloadOf(String f) {
        return switch (f) {
            case "append", "read-all" -> "append";
            case "transfer", "balances" -> "bank";
            default -> "register";
        };
    }

    private static String throughput(List<History.Pair> pairs, List<Window> faults, double end) {
        int seconds = (int) Math.ceil(end);
        Map<String, int[]> perSecond = new LinkedHashMap<>();
        for (History.Pair p : pairs) {
            if (p.outcome() != Op.Type.OK) {
                continue;
            }
            int s = (int) Math.min(seconds - 1, p.completion().time() / 1_000_000_000L);
            perSecond.computeIfAbsent(workloadOf(p.invoke().f()), k -> new int[seconds])[Math.max(0, s)]++;
        }
        int max = 1;
        for (int[] v : perSecond.values()) {
            for (int x : v) {
                max = Math.max(max, x);
            }
        }
        StringBuilder svg = frame(faults, end);
        for (Map.Entry<String, int[]> e : perSecond.entrySet()) {
            StringBuilder points = new StringBuilder();
            for (int s = 0; s < seconds; s++) {
                points.append(String.format(Locale.ROOT, "%.1f,%.1f ", x(s + 0.5, end), y(e.getValue()[s], max)));
            }
            svg.append("<polyline fill=\"none\" stroke-width=\"1.5\" stroke=\"").append(COLORS.getOrDefault(e.getKey(), "#333"))
                    .append("\" points=\"").append(points).append("\"/>");
        }
        axisY(svg, max);
        legend(svg, perSecond.keySet());
        return svg.append("</svg>").toString();
    }

    private static String latency(List<History.Pair> pairs, List<Window> faults, double end) {
        StringBuilder svg = frame(faults, end);
        int step = Math.max(1, pairs.size() / MAX_POINTS);
        double maxMs = 1;
        for (History.Pair p : pairs) {
            if (p.completion() != null) {
                maxMs = Math.max(maxMs, (p.completion().time() - p.invoke().time()) / 1e6);
            }
        }
        double logMax = Math.log10(Math.max(10, maxMs));
        for (int i = 0; i < pairs.size(); i += step) {
            History.Pair p = pairs.get(i);
            if (p.completion() == null) {
                continue;
            }
            double ms = Math.max(0.1, (p.completion().time() - p.invoke().time()) / 1e6);
            double px = x(p.invoke().time() / 1e9, end);
            double py = 10 + (HEIGHT - 40) * (1 - (Math.log10(ms) + 1) / (logMax + 1));
            String color = COLORS.getOrDefault(workloadOf(p.invoke().f()), "#333");
            switch (p.outcome()) {
                case OK -> svg.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"1.3\" fill=\"%s\"/>",
                        px, py, color));
                case FAIL -> svg.append(String.format(Locale.ROOT, "<path d=\"M%.1f %.1fl2.5 4h-5z\" fill=\"#d62728\"/>",
                        px, py - 2));
                default -> svg.append(String.format(Locale.ROOT, "<path d=\"M%.1f %.1fl5 5m0 -5l-5 5\" stroke=\"#ff7f0e\"/>",
                        px - 2.5, py - 2.5));
            }
        }
        for (int decade = -1; decade <= (int) Math.ceil(logMax); decade++) {
            double py = 10 + (HEIGHT - 40) * (1 - (decade + 1) / (logMax + 1));
            if (py >= 5) {
                svg.append(String.format(Locale.ROOT, "<text x=\"4\" y=\"%.1f\" font-size=\"11\">%s</text>", py + 4,
                        decade < 0 ? "0.1" : Long.toString((long) Math.pow(10, decade))));
            }
        }
        legend(svg, List.of("append", "register", "bank"));
        return svg.append("</svg>").toString();
    }

    private static StringBuilder frame(List<Window> faults, double end) {
        StringBuilder svg = new StringBuilder(String.format(Locale.ROOT,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\">", WIDTH, HEIGHT));
        for (Window w : faults) {
            svg.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"0\" width=\"%.1f\" height=\"%d\" fill=\"#f4c7c3\" "
                    + "opacity=\"0.6\"><title>%s</title></rect>", x(w.from(), end), Math.max(1, x(w.to(), end) - x(w.from(), end)),
                    HEIGHT - 20, esc(w.label())));
        }
        for (int s = 0; s <= end; s += Math.max(1, (int) Math.ceil(end / 12))) {
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\">%d</text>", x(s, end) - 4,
                    HEIGHT - 5, s));
        }
        return svg;
    }

    private static void axisY(StringBuilder svg, int max) {
        svg.append(String.format(Locale.ROOT, "<text x=\"4\" y=\"14\" font-size=\"11\">%d</text>", max));
        svg.append(String.format(Locale.ROOT, "<text x=\"4\" y=\"%d\" font-size=\"11\">0</text>", HEIGHT - 24));
    }

    private static void legend(StringBuilder svg, Iterable<String> names) {
        int i = 0;
        for (String n : names) {
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"14\" font-size=\"12\" fill=\"%s\">%s</text>",
                    WIDTH - 260 + 85 * i++, COLORS.getOrDefault(n, "#333"), esc(n)));
        }
    }

    private static double x(double seconds, double end) {
        return LEFT + (WIDTH - LEFT - 10) * seconds / end;
    }

    private static double y(double value, double max) {
        return 10 + (HEIGHT - 40) * (1 - value / max);
    }

    private static String esc(String s) {
        return s == null ? "" : s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
