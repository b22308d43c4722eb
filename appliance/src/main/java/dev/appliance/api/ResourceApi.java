package dev.appliance.api;

import static dev.appliance.api.Exchanges.body;
import static dev.appliance.api.Exchanges.queryParam;
import static dev.appliance.api.Exchanges.requireMethod;
import static dev.appliance.api.Exchanges.sendJson;
import static dev.appliance.api.Exchanges.who;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import dev.appliance.consensus.store.ClusterDocuments;
import dev.appliance.consensus.state.InvalidDocumentException;
import dev.appliance.consensus.state.Member;
import dev.appliance.consensus.state.Route;
import dev.appliance.consensus.state.Versioned;
import dev.appliance.node.Node;
import dev.appliance.resources.DatabaseFacts;
import dev.appliance.resources.Extension;
import dev.appliance.resources.PgArchives;
import dev.appliance.resources.PrimaryAddress;
import dev.appliance.resources.Resource;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /resources}: databases handed to applications, their connection settings through the leader route, facts
 * about them ({@code info}, {@code extensions}) and custom-format dumps and restores streamed through the API.
 */
final class ResourceApi {
    private static final Logger LOG = LoggerFactory.getLogger(ResourceApi.class);
    private final Node node;

    ResourceApi(Node node) {
        this.node = node;
    }

    void handle(HttpExchange ex, String path, String method) throws IOException, ApiRefusal {
        String[] parts = path.substring(1).split("/", -1);    // resources[/ID[/what]]
        try {
            if (parts.length == 1) {
                if ("GET".equals(method)) {
                    ArrayNode list = ClusterJson.JSON.createArrayNode();
                    for (Resource r : node.resources().list()) {
                        list.add(summary(r));
                    }
                    sendJson(ex, 200, ClusterJson.JSON.createObjectNode().set("resources", list));
                    return;
                }
                requireMethod(method, "GET", "POST");
                create(ex);
                return;
            }
            String id = parts[1];
            String what = parts.length > 2 ? parts[2] : "";
            if (parts.length > 3 || id.isEmpty()) {
                throw new ApiRefusal(404, "no such endpoint: " + path, null);
            }
            switch (what) {
                case "" -> {
                    if ("DELETE".equals(method)) {
                        Resource r = node.resources().remove(id, who(ex));
                        sendJson(ex, 200, ClusterJson.JSON.createObjectNode().put("result", "resource " + r.id()
                                + " removed: its database and role are dropped"));
                        return;
                    }
                    requireMethod(method, "GET", "DELETE");
                    sendJson(ex, 200, detail(node.resources().get(id)));
                }
                case "info" -> {
                    requireMethod(method, "GET");
                    sendJson(ex, 200, info(node.resources().get(id)));
                }
                case "extensions" -> {
                    requireMethod(method, "GET", "POST");
                    if (method.equals("POST")) {
                        String name = body(ex).path("name").asText("").strip();
                        if (name.isEmpty()) {
                            throw new ApiRefusal(400, "name the extension: {\"name\": \"postgis\"}", "name");
                        }
                        sendJson(ex, 200, json(node.resources().enableExtension(node.resources().get(id), name)));
                    } else {
                        sendJson(ex, 200, extensions(node.resources().get(id)));
                    }
                }
                case "dump" -> {
                    requireMethod(method, "GET");
                    dump(ex, node.resources().get(id));
                }
                case "restore" -> {
                    requireMethod(method, "POST");
                    restore(ex, node.resources().get(id));
                }
                default -> throw new ApiRefusal(404, "no such endpoint: " + path
                        + " (a resource has info, extensions, dump and restore)", null);
            }
        } catch (NoSuchElementException e) {
            throw new ApiRefusal(404, e.getMessage(), null);
        } catch (IllegalArgumentException e) {
            throw new ApiRefusal(400, e.getMessage(), null);
        } catch (IllegalStateException e) {
            throw new ApiRefusal(409, e.getMessage(), null);
        } catch (SQLException e) {
            throw new ApiRefusal(503, "the primary's postgres did not do it: " + e.getMessage()
                    + "; if a failover is under way, try again in a few seconds", null);
        }
    }

    private void create(HttpExchange ex) throws IOException, ApiRefusal, SQLException {
        JsonNode body = body(ex);
        String service = body.path("service").asText(Resource.POSTGRES);
        if (!Resource.POSTGRES.equals(service)) {
            throw new ApiRefusal(400, "service: the only service is 'postgres'", "service");
        }
        String id = body.hasNonNull("id") ? body.get("id").asText() : null;
        if (id != null && Resource.invalidId(id) != null) {
            throw new ApiRefusal(400, "id: " + Resource.invalidId(id), "id");
        }
        leaderRoute();    // refuse before creating anything when applications could not reach it
        Resource r = node.resources().create(id, who(ex));
        sendJson(ex, 201, detail(r));
    }

    private ObjectNode summary(Resource r) {
        return ClusterJson.JSON.createObjectNode().put("id", r.id()).put("service", r.service()).put("database", r.database())
                .put("user", r.user()).put("createdAt", r.createdAt().toString()).put("createdBy", r.createdBy());
    }

    /** The resource with its connection settings: every member's proxy on the leader route, in libpq's forms. */
    private ObjectNode detail(Resource r) throws ApiRefusal {
        ObjectNode out = summary(r);
        Route route = leaderRoute();
        List<String> hosts = new ArrayList<>();
        try {
            for (Versioned<Member> m : ClusterDocuments.members(node.store()).values()) {
                hosts.add(m.value().host());
            }
        } catch (InvalidDocumentException e) {
            throw new ApiRefusal(500, "the member registry is unreadable: " + e.getMessage(), null);
        }
        ObjectNode env = out.putObject("env");
        env.put("PGHOST", String.join(",", hosts));
        env.put("PGPORT", Integer.toString(route.port()));
        env.put("PGUSER", r.user());
        env.put("PGPASSWORD", r.password());
        env.put("PGDATABASE", r.database());
        StringBuilder url = new StringBuilder("postgres://").append(r.user()).append(':')
                .append(URLEncoder.encode(r.password(), StandardCharsets.UTF_8)).append('@');
        for (int i = 0; i < hosts.size(); i++) {
            url.append(i == 0 ? "" : ",").append(hosts.get(i)).append(':').append(route.port());
        }
        env.put("DATABASE_URL", url.append('/').append(r.database()).toString());
        out.put("route", route.id());
        return out;
    }

    /**
     * The leader route to postgres. One added a moment ago through another member may not have reached this
     * member's copy of the state yet, so a missing route is looked for again for up to two seconds.
     */
    private Route leaderRoute() throws ApiRefusal {
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (true) {
            try {
                Map<String, Versioned<Route>> routes = ClusterDocuments.routes(node.store());
                Optional<Route> r = routes.values().stream().map(Versioned::value)
                        .filter(x -> x.leader() && Route.POSTGRES.equals(x.service())).findFirst();
                if (r.isPresent()) {
                    return r.get();
                }
            } catch (InvalidDocumentException e) {
                throw new ApiRefusal(500, "the routes are unreadable: " + e.getMessage(), null);
            }
            if (System.nanoTime() > deadline) {
                throw new ApiRefusal(409, "the cluster has no leader route, so applications could not reach a "
                        + "resource; add one first: appliance route add tcp --service postgres --leader", null);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ApiRefusal(503, "interrupted", null);
            }
        }
    }

    private ObjectNode info(Resource r) throws SQLException {
        DatabaseFacts f = node.resources().facts(r);
        return ClusterJson.JSON.createObjectNode().put("id", r.id()).put("database", r.database()).put("primary", f.primary())
                .put("status", "available").put("version", f.version()).put("dataSizeBytes", f.sizeBytes())
                .put("connections", f.connections()).put("maxConnections", f.maxConnections()).put("tables", f.tables())
                .put("rowsEstimate", f.rowsEstimate()).put("postgresStartedAt", f.postgresStartedAt().toString());
    }

    private ObjectNode extensions(Resource r) throws SQLException {
        ArrayNode list = ClusterJson.JSON.createArrayNode();
        for (Extension e : node.resources().extensions(r)) {
            list.add(json(e));
        }
        return (ObjectNode) ClusterJson.JSON.createObjectNode().put("id", r.id()).set("extensions", list);
    }

    private static ObjectNode json(Extension e) {
        return ClusterJson.JSON.createObjectNode().put("name", e.name()).put("defaultVersion", e.defaultVersion())
                .put("installedVersion", e.installedVersion()).put("installed", e.installed()).put("comment", e.comment());
    }

    /**
     * Streams the dump as it is made. A pg_dump that fails before its first byte gets a real error answer; one
     * that fails later can only cut the stream short, which the client reports (its file is then incomplete).
     */
    private void dump(HttpExchange ex, Resource r) throws IOException, ApiRefusal {
        PrimaryAddress primary = node.resources().primary();
        ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
        ex.getResponseHeaders().set("Content-Disposition", "attachment; filename=\"" + r.id() + ".dump\"");
        FirstByteOutput out = new FirstByteOutput(ex);
        try {
            long bytes = node.archives().dump(primary, r.database(), out);
            out.finish();
            LOG.info("dump of resource {} from {}: {} bytes", r.id(), primary, bytes);
        } catch (IOException e) {
            if (!out.started()) {
                throw new ApiRefusal(503, e.getMessage(), null);
            }
            LOG.warn("dump of resource {} cut short: {}", r.id(), e.getMessage());
            throw new StreamCutShort(e);
        }
    }

    private void restore(HttpExchange ex, Resource r) throws IOException, ApiRefusal {
        boolean clean = flag(ex, "clean");
        boolean keepGoing = flag(ex, "keepGoing");
        PrimaryAddress primary = node.resources().primary();
        Path spooled;
        try (InputStream in = ex.getRequestBody()) {
            spooled = node.archives().spool(in);
        }
        try {
            long size = Files.size(spooled);
            if (size == 0) {
                throw new ApiRefusal(400, "the upload is empty: send a custom-format dump (appliance pg dump, or "
                        + "pg_dump --format=custom)", null);
            }
            PgArchives.Restored done = node.archives().restore(primary, r, spooled, clean, keepGoing);
            ObjectNode out = ClusterJson.JSON.createObjectNode().put("id", r.id()).put("bytes", size)
                    .put("entries", done.entries()).put("errors", done.errors()).put("exitCode", done.exitCode())
                    .put("atomic", done.atomic()).put("clean", clean);
            ArrayNode messages = out.putArray("messages");
            done.messages().forEach(messages::add);
            String result = done.ok() ? "restored " + done.entries() + " entries into " + r.database()
                    : done.atomic() ? "not restored: pg_restore stopped at an error, and the restore ran as one "
                            + "transaction, so the database is as it was"
                    : "restored with " + done.errors() + " error(s)";
            out.put("result", result);
            LOG.info("restore into resource {} on {}: {}", r.id(), primary, result);
            sendJson(ex, done.ok() ? 200 : 422, out);
        } finally {
            Files.deleteIfExists(spooled);
        }
    }

    private static boolean flag(HttpExchange ex, String name) throws ApiRefusal {
        Optional<String> v = queryParam(ex.getRequestURI(), name);
        if (v.isEmpty()) {
            return false;
        }
        return switch (v.get()) {
            case "", "true", "1" -> true;
            case "false", "0" -> false;
            default -> throw new ApiRefusal(400, name + ": true or false", name);
        };
    }

    /**
     * A streamed answer that failed after it began. The connection must then be dropped without the final chunk,
     * so the client sees the stream cut short instead of a complete-looking file.
     */
    static final class StreamCutShort extends IOException {
        StreamCutShort(IOException cause) {
            super(cause.getMessage(), cause);
        }
    }

    /** Sends the response headers at the first byte, so an early failure can still be answered with an error. */
    private static final class FirstByteOutput extends OutputStream {
        private final HttpExchange ex;
        private OutputStream body;

        FirstByteOutput(HttpExchange ex) {
            this.ex = ex;
        }

        boolean started() {
            return body != null;
        }

        private OutputStream body() throws IOException {
            if (body == null) {
                ex.sendResponseHeaders(200, 0);    // chunked: the length is not known in advance
                body = ex.getResponseBody();
            }
            return body;
        }

        @Override
        public void write(int b) throws IOException {
            body().write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            body().write(b, off, len);
        }

        @Override
        public void flush() throws IOException {
            if (body != null) {
                body.flush();
            }
        }

        void finish() throws IOException {
            body().close();
        }
    }
}
