package dev.appliance.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.appliance.api.ApiClient;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code appliance pg ...}: a resource's database: a console, dumps and restores, facts. */
@Command(name = "pg", mixinStandardHelpOptions = true, description = "Works with a resource's database.",
        subcommands = {PgCommand.Psql.class, PgCommand.Dump.class, PgCommand.Restore.class, PgCommand.Info.class,
            PgCommand.Extensions.class})
final class PgCommand {

    /** Which resource: --resource, else the only one there is. */
    static final class Which {
        @Option(names = {"-r", "--resource"}, paramLabel = "ID", description = "The resource; default the only one.")
        String resource;

        String id(ApiClient api) throws IOException {
            if (resource != null) {
                return resource;
            }
            JsonNode all = Cli.require(api.get("/resources")).path("resources");
            if (all.size() == 1) {
                return all.get(0).path("id").asText();
            }
            if (all.isEmpty()) {
                throw new Cli.Failure("there is no resource yet; create one with: appliance resource add postgres");
            }
            List<String> ids = new ArrayList<>();
            all.forEach(r -> ids.add(r.path("id").asText()));
            throw new Cli.Failure("there are " + ids.size() + " resources (" + String.join(", ", ids)
                    + "); name one with --resource ID");
        }
    }

    /** A read about one resource, printed as a table or, with --json, as the API's document. */
    abstract static class ResourceRead extends ApiCommand {
        @Mixin
        Which which;

        @Option(names = "--json", description = "Print the JSON document.")
        boolean json;
    }

    @Command(name = "psql", mixinStandardHelpOptions = true,
            description = {
                "A console on the resource's database through the leader route: the local psql where one is "
                        + "installed (ARGS go to it), else a built-in console (line editing, history, multi-line "
                        + "statements, aligned tables). The password reaches psql in its environment, never on a command "
                        + "line."})
    static final class Psql extends ApiCommand {
        @Mixin
        Which which;

        @Option(names = "--builtin", description = "Use the built-in console even where psql is installed.")
        boolean builtin;

        @Parameters(paramLabel = "ARGS", description = "Arguments for psql, after '--'.")
        List<String> args = new ArrayList<>();

        @Override
        public Integer call() throws Exception {
            ApiClient api = target.client();
            JsonNode r = Cli.require(api.get("/resources/" + which.id(api)));
            JsonNode env = r.path("env");
            Path psql = builtin ? null : onPath("psql");
            if (psql == null) {
                if (!args.isEmpty()) {
                    throw new Cli.Failure("psql is not installed here, and the built-in console takes no psql "
                            + "arguments (" + String.join(" ", args) + ")");
                }
                return Console.run(env, System.in, out(), err());
            }
            List<String> command = new ArrayList<>(List.of(psql.toString()));
            command.addAll(args);
            ProcessBuilder pb = new ProcessBuilder(command);
            for (String k : ResourceCommand.ENV) {
                if (!k.equals("DATABASE_URL")) {
                    pb.environment().put(k, env.path(k).asText());
                }
            }
            if (System.console() != null) {
                return pb.inheritIO().start().waitFor();    // psql owns the terminal
            }
            // A script or a pipe: psql's output goes where this command's goes.
            Process p = pb.redirectInput(ProcessBuilder.Redirect.INHERIT).start();
            Thread err = copy(p.getErrorStream(), err());
            copy(p.getInputStream(), out()).join();
            err.join();
            return p.waitFor();
        }

        private static Thread copy(java.io.InputStream from, PrintWriter to) {
            Thread t = new Thread(() -> {
                try (var r = new java.io.InputStreamReader(from, java.nio.charset.StandardCharsets.UTF_8)) {
                    char[] buf = new char[8192];
                    for (int n; (n = r.read(buf)) > 0; ) {
                        to.write(buf, 0, n);
                        to.flush();
                    }
                } catch (IOException ignored) {
                    // psql ended
                }
            }, "psql-output");
            t.start();
            return t;
        }

        private static Path onPath(String program) {
            for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
                Path p = Path.of(dir.isEmpty() ? "." : dir, program);
                if (Files.isExecutable(p)) {
                    return p;
                }
            }
            return null;
        }
    }

    @Command(name = "dump", mixinStandardHelpOptions = true,
            description = {
                "Saves the resource's database (schema and data) in PostgreSQL's custom format, made by the "
                        + "daemon's own pg_dump: no Postgres client is needed here. pg_restore reads the file too:",
                "  pg_restore --clean --no-acl --no-owner -d mydb FILE"})
    static final class Dump extends ApiCommand {
        @Mixin
        Which which;

        @Option(names = {"-f", "--file"}, required = true, paramLabel = "FILE", description = "Where to write the dump.")
        Path file;

        @Override
        public Integer call() throws Exception {
            ApiClient api = target.client();
            String id = which.id(api);
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null && !Files.isDirectory(parent)) {
                throw new Cli.Failure("cannot write " + file + ": the directory " + parent + " does not exist");
            }
            Path partial = file.resolveSibling(file.getFileName() + ".partial");
            Progress progress = new Progress(err(), -1);
            long bytes;
            try (OutputStream out = Files.newOutputStream(partial)) {
                bytes = api.download("/resources/" + id + "/dump", out, progress::update);
            } catch (ApiClient.Refused e) {
                Files.deleteIfExists(partial);
                throw new Cli.Failure(e.answer().error() + " (from " + e.answer().from() + ")");
            } catch (IOException e) {
                Files.deleteIfExists(partial);
                throw new Cli.Failure("the dump failed and nothing was written to " + file + ": " + e.getMessage());
            }
            progress.done(bytes);
            Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return 0;
        }
    }

    @Command(name = "restore", mixinStandardHelpOptions = true,
            description = {
                "Loads a custom-format dump (from 'pg dump' or pg_dump --format=custom) into the resource's "
                        + "database, owned by the resource's role. The file is uploaded whole and checked before anything "
                        + "is touched, and the restore runs as one transaction: if it meets an error, nothing changes and "
                        + "the error is shown. --keep-going carries on past errors the way plain pg_restore does, and "
                        + "counts them."})
    static final class Restore extends ApiCommand {
        @Mixin
        Which which;

        @Option(names = {"-f", "--file"}, required = true, paramLabel = "FILE", description = "The dump to load.")
        Path file;

        @Option(names = "--clean", description = "Drop the objects the dump holds before creating them again.")
        boolean clean;

        @Option(names = "--keep-going", description = "Do not stop at the first error (not atomic).")
        boolean keepGoing;

        @Option(names = "--json", description = "Print the outcome as JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            if (!Files.isRegularFile(file)) {
                throw new Cli.Failure("no such file: " + file);
            }
            if (Files.size(file) == 0) {
                throw new Cli.Failure(file + " is empty; nothing was restored");
            }
            ApiClient api = target.client();
            String id = which.id(api);
            Progress progress = new Progress(err(), Files.size(file));
            ApiClient.Answer a = api.upload("/resources/" + id + "/restore?clean=" + clean + "&keepGoing=" + keepGoing,
                    file, progress::update);
            progress.done(Files.size(file));
            JsonNode r = a.body();
            PrintWriter out = out();
            if (json && a.status() != 404 && a.status() != 400) {
                Cli.printJson(out, r);
                out.flush();
                return a.ok() ? 0 : 1;
            }
            if (!a.ok() && !r.has("errors")) {
                throw new Cli.Failure(a.error() + " (from " + a.from() + ")");
            }
            PrintWriter err = err();
            if (r.path("errors").asInt() > 0) {
                err.println((r.path("atomic").asBoolean() ? "ERROR: " : "WARNING: ") + "errors on restore: "
                        + r.path("errors").asInt() + "; the first:");
                r.path("messages").forEach(m -> err.println("  " + m.asText()));
            }
            err.flush();
            out.println(r.path("result").asText());
            out.flush();
            return a.ok() ? 0 : 1;
        }
    }

    @Command(name = "info", mixinStandardHelpOptions = true,
            description = "The resource's database at a glance: status, connections, version, size, tables, rows, replication.")
    static final class Info extends ResourceRead {
        @Override
        public Integer call() throws Exception {
            ApiClient api = target.client();
            String id = which.id(api);
            JsonNode info = Cli.require(api.get("/resources/" + id + "/info"));
            JsonNode cluster = Cli.require(api.get("/cluster"));
            PrintWriter out = out();
            if (json) {
                var doc = info.deepCopy();
                ((com.fasterxml.jackson.databind.node.ObjectNode) doc).set("members", cluster.path("members"));
                Cli.printJson(out, doc);
                out.flush();
                return 0;
            }
            out.println("=== " + id);
            String f = "%-13s %s%n";
            out.printf(f, "Status:", info.path("status").asText());
            out.printf(f, "Connections:", info.path("connections").asInt() + "/" + info.path("maxConnections").asInt());
            out.printf(f, "PG Version:", info.path("version").asText());
            out.printf(f, "Data Size:", ClusterCommand.bytes(info.path("dataSizeBytes").asLong()));
            out.printf(f, "Tables:", info.path("tables").asInt());
            out.printf(f, "Rows:", "~" + info.path("rowsEstimate").asLong() + " (estimate from statistics)");
            out.printf(f, "Primary:", info.path("primary").asText() + " since " + info.path("postgresStartedAt").asText());
            for (JsonNode m : cluster.path("members")) {
                String role = m.path("role").asText();
                if ("primary".equals(role)) {
                    continue;
                }
                JsonNode pg = m.path("pg");
                String lag = pg.has("lagBytes") ? ClusterCommand.bytes(pg.path("lagBytes").asLong()) + " behind"
                        : m.path("live").asBoolean() ? "lag unknown" : "down";
                out.printf(f, "Replica:", m.path("id").asText() + " (" + role + "), " + lag
                        + (m.path("healthy").asBoolean() ? "" : ", NOT healthy"));
            }
            out.flush();
            return 0;
        }
    }

    @Command(name = "extensions", mixinStandardHelpOptions = true,
            description = {"The extensions available to the resource's database, and which are installed.",
                "The resource's role can CREATE EXTENSION the trusted ones (hstore, pgcrypto, ...); --enable creates",
                "any of them, PostGIS and pgRouting included, as the appliance's superuser."})
    static final class Extensions extends ResourceRead {
        @picocli.CommandLine.Option(names = "--enable", paramLabel = "NAME",
                description = "Create this extension (and those it needs) in the resource's database.")
        String enable;

        @Override
        public Integer call() throws Exception {
            ApiClient api = target.client();
            String id = which.id(api);
            if (enable != null) {
                JsonNode e = Cli.require(api.post("/resources/" + id + "/extensions",
                        ApiClient.JSON.createObjectNode().put("name", enable)));
                if (json) {
                    Cli.printJson(out(), e);
                    out().flush();
                } else {
                    say("Extension " + e.path("name").asText() + " " + e.path("installedVersion").asText()
                            + " is installed in resource " + id);
                }
                return 0;
            }
            JsonNode all = Cli.require(api.get("/resources/" + id + "/extensions"));
            PrintWriter out = out();
            if (json) {
                Cli.printJson(out, all);
            } else {
                String f = "%-28s %-9s %-10s %s%n";
                out.printf(f, "NAME", "VERSION", "INSTALLED", "DESCRIPTION");
                for (JsonNode e : all.path("extensions")) {
                    out.printf(f, e.path("name").asText(), e.path("defaultVersion").asText(),
                            e.path("installed").asBoolean() ? e.path("installedVersion").asText() : "-",
                            e.path("comment").asText(""));
                }
            }
            out.flush();
            return 0;
        }
    }
}
