package dev.appliance.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The raw settings of a node: a file of {@code key = value} lines ({@code #} starts a comment), then the
 * {@code APPLIANCE_*} environment variables, which win. Every unknown key, duplicate or malformed line is a
 * problem; all of them are collected, so the operator fixes the file in one go.
 */
public final class ConfigSource {
    /** A value and where it came from ({@code file:line} or the variable's name). */
    public record Value(String text, String origin) {
    }

    private final Map<String, Value> values = new LinkedHashMap<>();
    private final List<String> problems = new ArrayList<>();

    private ConfigSource() {
    }

    /** Reads {@code file} (null: none) and overrides from {@code env}. */
    public static ConfigSource load(Path file, Map<String, String> env) {
        ConfigSource s = new ConfigSource();
        if (file != null) {
            try {
                s.readFile(file, Files.readAllLines(file, StandardCharsets.UTF_8));
            } catch (IOException e) {
                s.problems.add(file + ": cannot be read (" + e.getMessage() + ")");
            }
        }
        s.readEnv(env);
        return s;
    }

    static ConfigSource of(Map<String, String> values) {
        ConfigSource s = new ConfigSource();
        values.forEach((k, v) -> s.values.put(k, new Value(v, "given")));
        return s;
    }

    public Optional<Value> get(String key) {
        return Optional.ofNullable(values.get(key));
    }

    public Map<String, Value> values() {
        return values;
    }

    public List<String> problems() {
        return problems;
    }

    private void readFile(Path file, List<String> lines) {
        for (int i = 0; i < lines.size(); i++) {
            String origin = file + ":" + (i + 1);
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int eq = line.indexOf('=');
            if (eq <= 0) {
                problems.add(origin + ": expected 'key = value', got '" + line + "'");
                continue;
            }
            String key = line.substring(0, eq).strip();
            String value = line.substring(eq + 1).strip();
            if (!known(key)) {
                problems.add(origin + ": unknown setting '" + key + "'" + suggestion(key));
                continue;
            }
            Value earlier = values.get(key);
            if (earlier != null) {
                problems.add(origin + ": '" + key + "' is set twice (first at " + earlier.origin() + ")");
                continue;
            }
            values.put(key, new Value(value, origin));
        }
    }

    /** Variables of the launcher scripts and the CLI, which share the prefix but are no node setting. */
    private static final java.util.Set<String> NOT_SETTINGS = java.util.Set.of("APPLIANCE_JAVA_OPTS",
            "APPLIANCE_CLI_JAVA_OPTS", "APPLIANCE_URL", "APPLIANCE_TOKEN", "APPLIANCE_CONFIG");

    private void readEnv(Map<String, String> env) {
        for (Map.Entry<String, String> e : env.entrySet()) {
            String name = e.getKey();
            if (!name.startsWith(Setting.ENV_PREFIX) || NOT_SETTINGS.contains(name)) {
                continue;
            }
            Optional<String> key = keyOfEnv(name);
            if (key.isEmpty()) {
                problems.add("environment: " + name + " is not a setting" + suggestion(name));
                continue;
            }
            values.put(key.get(), new Value(e.getValue().strip(), name));
        }
    }

    private static Optional<String> keyOfEnv(String name) {
        String pgSet = Setting.envName(Settings.POSTGRES_SET);
        if (name.startsWith(pgSet) && name.length() > pgSet.length()) {
            return Optional.of(Settings.POSTGRES_SET + name.substring(pgSet.length()).toLowerCase());
        }
        return Settings.ALL.stream().filter(s -> s.envName().equals(name)).map(Setting::key).findFirst();
    }

    private static boolean known(String key) {
        return Settings.byKey(key).isPresent()
                || key.startsWith(Settings.POSTGRES_SET) && key.length() > Settings.POSTGRES_SET.length();
    }

    /** "; did you mean X?" for the nearest known key (or variable), when one is close. */
    private static String suggestion(String given) {
        boolean env = given.startsWith(Setting.ENV_PREFIX);
        return Settings.ALL.stream().map(s -> env ? s.envName() : s.key())
                .min(Comparator.comparingInt(k -> distance(k, given)))
                .filter(k -> distance(k, given) <= Math.max(2, given.length() / 4))
                .map(k -> "; did you mean '" + k + "'?").orElse("");
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
