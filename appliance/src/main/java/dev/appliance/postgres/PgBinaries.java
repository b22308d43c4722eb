package dev.appliance.postgres;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Where the PostgreSQL server programs are, and which major version they are. Found, in this order, in
 * {@code PG_BIN}, in {@code pg_config --bindir}, and in {@code /usr/lib/postgresql/<version>/bin} (newest first).
 */
public record PgBinaries(Path dir, int majorVersion) {
    public static final int MINIMUM_MAJOR = 15;
    private static final List<String> REQUIRED = List.of("postgres", "initdb", "pg_basebackup", "pg_rewind",
            "pg_controldata", "pg_waldump");
    private static final Pattern VERSION = Pattern.compile("\\(PostgreSQL\\) (\\d+)");

    public Path tool(String name) {
        return dir.resolve(name);
    }

    public static PgBinaries discover() throws IOException {
        return discover(System.getenv(), Path.of("/usr/lib/postgresql"));
    }

    /** The server programs in {@code dir}, named by the operator as {@code label}; no search elsewhere. */
    public static PgBinaries in(Path dir, String label) throws IOException {
        List<String> tried = new ArrayList<>();
        Optional<PgBinaries> found = check(dir, tried, label);
        if (found.isPresent()) {
            return found.get();
        }
        throw new IOException(label + " does not hold PostgreSQL " + MINIMUM_MAJOR + "+ server programs ("
                + tried.get(tried.size() - 1) + "); point it at the directory with postgres, initdb, pg_basebackup, "
                + "pg_rewind, pg_controldata and pg_waldump");
    }

    static PgBinaries discover(Map<String, String> env, Path debianRoot) throws IOException {
        List<String> tried = new ArrayList<>();
        String pgBin = env.get("PG_BIN");
        if (pgBin != null && !pgBin.isBlank()) {
            return in(Path.of(pgBin), "PG_BIN=" + pgBin);
        }
        Optional<Path> fromPgConfig = pgConfigBindir(env.getOrDefault("PATH", ""));
        if (fromPgConfig.isPresent()) {
            Optional<PgBinaries> found = check(fromPgConfig.get(), tried, "pg_config --bindir");
            if (found.isPresent()) {
                return found.get();
            }
        } else {
            tried.add("pg_config: not on PATH");
        }
        if (Files.isDirectory(debianRoot)) {
            List<Path> versions;
            try (Stream<Path> s = Files.list(debianRoot)) {
                versions = s.filter(p -> p.getFileName().toString().matches("\\d+"))
                        .sorted(Comparator.comparingInt((Path p) -> Integer.parseInt(p.getFileName().toString())).reversed())
                        .toList();
            }
            for (Path v : versions) {
                Optional<PgBinaries> found = check(v.resolve("bin"), tried, v.resolve("bin").toString());
                if (found.isPresent()) {
                    return found.get();
                }
            }
        } else {
            tried.add(debianRoot + ": no such directory");
        }
        throw new IOException("PostgreSQL " + MINIMUM_MAJOR + "+ server programs not found. Tried: " + String.join("; ", tried)
                + ". Install them (Debian: apt-get install postgresql-15) or set PG_BIN to their directory.");
    }

    private static Optional<PgBinaries> check(Path dir, List<String> tried, String label) {
        for (String tool : REQUIRED) {
            if (!Files.isExecutable(dir.resolve(tool))) {
                tried.add(label + ": no " + tool + " in " + dir);
                return Optional.empty();
            }
        }
        try {
            String out = ProcessRunner.output(List.of(dir.resolve("postgres").toString(), "--version"), 10);
            Matcher m = VERSION.matcher(out);
            if (!m.find()) {
                tried.add(label + ": unrecognized version '" + out.trim() + "'");
                return Optional.empty();
            }
            int major = Integer.parseInt(m.group(1));
            if (major < MINIMUM_MAJOR) {
                tried.add(label + ": PostgreSQL " + major + " is too old");
                return Optional.empty();
            }
            return Optional.of(new PgBinaries(dir, major));
        } catch (IOException e) {
            tried.add(label + ": " + e.getMessage());
            return Optional.empty();
        }
    }

    private static Optional<Path> pgConfigBindir(String path) {
        for (String dir : path.split(":")) {
            Path pgConfig = dir.isEmpty() ? null : Path.of(dir, "pg_config");
            if (pgConfig == null || !Files.isExecutable(pgConfig)) {
                continue;
            }
            try {
                String out = ProcessRunner.output(List.of(pgConfig.toString(), "--bindir"), 10).trim();
                return out.isEmpty() ? Optional.empty() : Optional.of(Path.of(out));
            } catch (IOException e) {
                return Optional.empty();
            }
        }
        return Optional.empty();
    }
}
