package dev.appliance.api;

import static dev.appliance.api.Exchanges.body;
import static dev.appliance.api.Exchanges.queryParam;
import static dev.appliance.api.Exchanges.requireMethod;
import static dev.appliance.api.Exchanges.send;
import static dev.appliance.api.Exchanges.sendJson;
import static dev.appliance.api.Exchanges.who;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.appliance.config.Values;
import dev.appliance.consensus.state.ClusterState;
import dev.appliance.consensus.state.InvalidDocumentException;
import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.state.Route;
import dev.appliance.consensus.state.Role;
import dev.appliance.consensus.state.WalPosition;
import dev.appliance.consensus.store.WriteResult;
import dev.appliance.node.Node;
import dev.appliance.node.NodeView;
import dev.appliance.peer.MemberStatus;
import dev.appliance.peer.PgObservation;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's HTTP API (JSON). Health probes use Patroni's paths and status codes (200 / 503), so existing
 * HAProxy and Kubernetes checks work unchanged; they and {@code /metrics} are open, everything else needs
 * the cluster's bearer token.
 */
public final class HttpApi implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HttpApi.class);

    private final Node node;
    private final Metrics metrics;
    private final Runnable stopRequested;
    private final ResourceApi resources;
    private final HttpServer server;
    private final ExecutorService executor = Executors.newFixedThreadPool(4, r -> {
        Thread t = new Thread(r, "http-api");
        t.setDaemon(true);
        return t;
    });

    public HttpApi(Node node, Metrics metrics, Runnable stopRequested) throws IOException {
        this.node = node;
        this.metrics = metrics;
        this.stopRequested = stopRequested;
        this.resources = new ResourceApi(node);
        this.server = HttpServer.create(new InetSocketAddress(node.config().host(), node.config().apiPort()), 64);
        server.createContext("/", this::handle);
        server.setExecutor(executor);
    }

    public void start() {
        server.start();
        LOG.info("{}: HTTP API on http://{}:{}", node.config().id(), node.config().host(), node.config().apiPort());
    }

    private void handle(HttpExchange ex) throws IOException {
        boolean cutShort = false;
        try {
            String path = ex.getRequestURI().getPath();
            String method = ex.getRequestMethod();
            try {
                NodeView view = node.view();
                if (view == null) {
                    throw new ApiRefusal(503, "the node is starting", null);
                }
                switch (path) {
                    case "/health", "/liveness", "/readiness", "/primary", "/leader", "/master", "/replica", "/sync",
                            "/synchronous", "/async", "/read-only" -> probe(ex, path, view);
                    case "/metrics" -> {
                        requireMethod(method, "GET");
                        send(ex, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape());
                    }
                    case "/status" -> {
                        authorize(ex);
                        requireMethod(method, "GET");
                        ObjectNode st = ClusterJson.status(view, ProcessHandle.current().pid(),
                                node.postgresPid().pid().orElse(0), Duration.between(node.startedAt(), Instant.now()));
                        st.set("proxy", ClusterJson.proxy(node.proxy()));
                        sendJson(ex, 200, st);
                    }
                    case "/cluster" -> {
                        authorize(ex);
                        requireMethod(method, "GET");
                        sendJson(ex, 200, ClusterJson.cluster(view, node.store()));
                    }
                    case "/history" -> {
                        authorize(ex);
                        requireMethod(method, "GET");
                        int limit = queryParam(ex.getRequestURI(), "limit").map(v -> {
                            try {
                                return Values.integer(v);
                            } catch (IllegalArgumentException e) {
                                return -1;
                            }
                        }).orElse(100);
                        if (limit < 1) {
                            throw new ApiRefusal(400, "limit must be a positive whole number", "limit");
                        }
                        sendJson(ex, 200, ClusterJson.history(node.store().audit(), limit));
                    }
                    case "/members" -> {
                        authorize(ex);
                        requireMethod(method, "GET", "POST");
                        if (method.equals("GET")) {
                            sendJson(ex, 200, ClusterJson.JSON.valueToTree(Map.of("voters", node.store().configuration(true),
                                    "listeners", node.store().configuration(false))));
                        } else {
                            JsonNode body = body(ex);
                            MemberId id = optionalMember(body, "id");
                            if (id == null) {
                                throw new ApiRefusal(400, "name the new member: {\"id\": \"n4\", \"host\": \"10.0.0.14\"}", "id");
                            }
                            String host = body.path("host").asText("").strip();
                            if (host.isEmpty()) {
                                throw new ApiRefusal(400, "the new member's host (the address the others reach it at) is "
                                        + "missing", "host");
                            }
                            JsonNode port = body.path("raftPort");
                            if (!port.isMissingNode() && (!port.canConvertToInt() || port.asInt() < 1 || port.asInt() > 65535)) {
                                throw new ApiRefusal(400, "raftPort must be a port number (1-65535)", "raftPort");
                            }
                            JsonNode voting = body.path("voting");
                            if (!voting.isMissingNode() && !voting.isBoolean()) {
                                throw new ApiRefusal(400, "voting must be true or false", "voting");
                            }
                            String result = await(node.addMember(id, host, port.isMissingNode() ? 7000 : port.asInt(),
                                    voting.isMissingNode() || voting.asBoolean(), who(ex)));
                            sendJson(ex, 201, ClusterJson.JSON.createObjectNode().put("result", result));
                        }
                    }
                    case "/drill" -> {
                        authorize(ex);
                        requireMethod(method, "POST");
                        JsonNode body = body(ex);
                        String fault = body.path("fault").asText("");
                        JsonNode seconds = body.path("seconds");
                        if (!seconds.isMissingNode() && (!seconds.canConvertToInt() || seconds.asInt() < 1 || seconds.asInt() > 300)) {
                            throw new ApiRefusal(400, "seconds must be 1-300", "seconds");
                        }
                        String result;
                        try {
                            result = switch (fault) {
                                case "crash" -> node.drillCrash(who(ex));
                                case "partition" -> node.drillPartition(seconds.isMissingNode() ? 10 : seconds.asInt(), who(ex));
                                default -> throw new ApiRefusal(400, "fault must be crash or partition", "fault");
                            };
                        } catch (UnsupportedOperationException e) {
                            throw new ApiRefusal(403, e.getMessage(), null);
                        } catch (IllegalStateException e) {
                            throw new ApiRefusal(409, e.getMessage(), null);
                        }
                        sendJson(ex, 202, ClusterJson.JSON.createObjectNode().put("result", result));
                    }
                    case "/switchover" -> {
                        authorize(ex);
                        requireMethod(method, "POST");
                        JsonNode body = body(ex);
                        MemberId to = optionalMember(body, "to");
                        written(ex, node.requestSwitchover(to, who(ex)), 202,
                                "switchover requested" + (to == null ? " to the sync" : " to " + to));
                    }
                    case "/freeze" -> {
                        authorize(ex);
                        requireMethod(method, "POST");
                        JsonNode body = body(ex);
                        String reason = body.path("reason").asText("").strip();
                        if (reason.isEmpty()) {
                            throw new ApiRefusal(400, "a freeze needs a reason, e.g. {\"reason\": \"maintenance\"}", "reason");
                        }
                        written(ex, node.freeze(reason, who(ex)), 200, "frozen: " + reason);
                    }
                    case "/unfreeze" -> {
                        authorize(ex);
                        requireMethod(method, "POST");
                        written(ex, node.unfreeze(who(ex)), 200, "unfrozen");
                    }
                    case "/rebuild" -> {
                        authorize(ex);
                        requireMethod(method, "POST");
                        try {
                            node.requestRebuild(who(ex));
                        } catch (IllegalStateException e) {
                            throw new ApiRefusal(409, e.getMessage(), null);
                        }
                        sendJson(ex, 202, ClusterJson.JSON.createObjectNode().put("result", node.config().id()
                                + " is rebuilding: postgres stops and its data is replaced by a fresh clone of the primary"));
                    }
                    case "/stop" -> {
                        authorize(ex);
                        requireMethod(method, "POST");
                        sendJson(ex, 202, ClusterJson.JSON.createObjectNode().put("result",
                                "stopping; a primary hands over to its sync first"));
                        CompletableFuture.runAsync(stopRequested);
                    }
                    case "/routes" -> {
                        authorize(ex);
                        if ("GET".equals(method)) {
                            sendJson(ex, 200, ClusterJson.routes(node.store()));
                            break;
                        }
                        requireMethod(method, "GET", "POST");
                        JsonNode body = body(ex);
                        String service = body.path("service").asText(Route.POSTGRES);
                        if (!Route.POSTGRES.equals(service)) {
                            throw new ApiRefusal(400, "service: the only service is 'postgres'", "service");
                        }
                        if (body.has("leader") && !body.get("leader").asBoolean(false)) {
                            throw new ApiRefusal(400, "leader: only leader routes (to the primary) exist today", "leader");
                        }
                        Integer port = null;
                        if (body.hasNonNull("port")) {
                            JsonNode p = body.get("port");
                            if (!p.isIntegralNumber() || !p.canConvertToInt() || p.asInt() < 1 || p.asInt() > 65535) {
                                throw new ApiRefusal(400, "port: must be a whole number 1-65535", "port");
                            }
                            port = p.asInt();
                        }
                        String id = body.hasNonNull("id") ? body.get("id").asText() : null;
                        if (id != null && !id.matches("[a-z0-9][a-z0-9_-]{0,62}")) {
                            throw new ApiRefusal(400, "id: 1-63 of a-z, 0-9, '-', '_', starting with a letter or digit", "id");
                        }
                        Route r = await(node.addRoute(id, port, who(ex)));
                        sendJson(ex, 201, ClusterJson.route(r, node.store()));
                    }
                    default -> {
                        if (path.equals("/resources") || path.startsWith("/resources/")) {
                            authorize(ex);
                            resources.handle(ex, path, method);
                            break;
                        }
                        if (path.startsWith("/members/") && path.length() > "/members/".length()) {
                            authorize(ex);
                            requireMethod(method, "DELETE");
                            String id = path.substring("/members/".length());
                            if (!MemberId.isValid(id)) {
                                throw new ApiRefusal(400, "'" + id + "' is not a member id", null);
                            }
                            String result = await(node.removeMember(MemberId.of(id), who(ex)));
                            sendJson(ex, 200, ClusterJson.JSON.createObjectNode().put("result", result));
                            break;
                        }
                        if (path.startsWith("/routes/") && path.length() > "/routes/".length()) {
                            authorize(ex);
                            requireMethod(method, "DELETE");
                            Route r = await(node.removeRoute(path.substring("/routes/".length()), who(ex)));
                            sendJson(ex, 200, ClusterJson.JSON.createObjectNode().put("result", "route " + r.id()
                                    + " removed; no member listens on port " + r.port() + " any more"));
                            break;
                        }
                        throw new ApiRefusal(404, "no such endpoint: " + path, null);
                    }
                }
            } catch (ResourceApi.StreamCutShort e) {
                cutShort = true;    // the server then drops the connection without ending the stream
                throw e;
            } catch (ApiRefusal r) {
                ObjectNode err = ClusterJson.JSON.createObjectNode().put("error", r.getMessage());
                if (r.field != null) {
                    err.put("field", r.field);
                }
                sendJson(ex, r.status, err);
            } catch (InvalidDocumentException | RuntimeException e) {
                LOG.warn("{} {} failed: {}", method, path, e.toString());
                sendJson(ex, 500, ClusterJson.JSON.createObjectNode().put("error", String.valueOf(e.getMessage())));
            }
        } finally {
            if (!cutShort) {
                ex.close();
            }
        }
    }

    /**
     * Patroni's probes. {@code /health}, {@code /readiness}: postgres runs. {@code /liveness}: the daemon's loop
     * runs (postgres may be down for a clone; a scheduler must not restart the node for that). {@code /primary}: this node is the primary clients
     * should write to. {@code /replica[?lag=16MB]}: a streaming replica, within the lag. {@code /sync},
     * {@code /async}: a streaming replica in that role. {@code /read-only}: a primary or a replica.
     */
    private void probe(HttpExchange ex, String path, NodeView view) throws IOException, ApiRefusal {
        requireMethod(ex.getRequestMethod(), "GET", "HEAD", "OPTIONS");
        ClusterState st = view.state() == null ? null : view.state().value();
        Role role = view.role();
        PgObservation pg = view.postgres().observation();
        boolean primary = view.servesAsPrimary();
        boolean replica = view.servesAsReplica();
        boolean ok = switch (path) {
            case "/health", "/readiness" -> pg.isRunning();
            case "/liveness" -> node.loopAlive();
            case "/primary", "/leader", "/master" -> primary;
            case "/sync", "/synchronous" -> replica && role == Role.SYNC;
            case "/async" -> replica && role == Role.ASYNC;
            case "/read-only" -> primary || replica;
            default -> withinLag(ex, view, st) && replica;
        };
        Map<String, Object> body = ClusterJson.probe(view);
        sendJson(ex, ok ? 200 : 503, ClusterJson.JSON.valueToTree(body));
    }

    private static boolean withinLag(HttpExchange ex, NodeView view, ClusterState st) throws ApiRefusal {
        Optional<String> lag = queryParam(ex.getRequestURI(), "lag");
        if (lag.isEmpty()) {
            return true;
        }
        long max;
        try {
            max = lag.get().matches("\\d+") ? Long.parseLong(lag.get()) : Values.bytes(lag.get());
        } catch (IllegalArgumentException e) {
            throw new ApiRefusal(400, "lag: " + e.getMessage(), "lag");
        }
        MemberStatus primary = st == null ? null : view.sessions().get(st.primary());
        if (primary == null) {
            return false;
        }
        WalPosition at = primary.pg().position();
        return at.bytesAfter(view.postgres().observation().position()) <= max;
    }

    private void written(HttpExchange ex, CompletableFuture<WriteResult> write, int okStatus, String what)
            throws IOException, ApiRefusal {
        WriteResult r = await(write);
        if (!r.ok()) {
            throw new ApiRefusal(409, "not applied: " + r.status() + (r.detail().isEmpty() ? "" : " (" + r.detail() + ")"), null);
        }
        sendJson(ex, okStatus, ClusterJson.JSON.createObjectNode().put("result", what).put("version", r.version()));
    }

    /** The outcome of a write through the node: refused (404, 409) or unavailable (503) as an HTTP answer. */
    private static <T> T await(CompletableFuture<T> f) throws ApiRefusal {
        try {
            return f.get(15, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof java.util.NoSuchElementException) {
                throw new ApiRefusal(404, cause.getMessage(), null);
            }
            if (cause instanceof IllegalStateException || cause instanceof IllegalArgumentException) {
                throw new ApiRefusal(409, cause.getMessage(), null);
            }
            throw new ApiRefusal(503, "the consensus store did not take the change: " + cause.getMessage(), null);
        } catch (TimeoutException e) {
            throw new ApiRefusal(503, "the consensus store did not answer within 15 s", null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiRefusal(503, "interrupted", null);
        }
    }

    private void authorize(HttpExchange ex) throws ApiRefusal {
        String header = ex.getRequestHeaders().getFirst("Authorization");
        String expected = "Bearer " + node.secrets().apiToken();
        if (header == null || !MessageDigest.isEqual(header.getBytes(StandardCharsets.UTF_8),
                expected.getBytes(StandardCharsets.UTF_8))) {
            throw new ApiRefusal(401, "a bearer token is required (Authorization: Bearer <token>; the token is "
                    + "APPLIANCE_TOKEN in the cluster's appliance.env, or secrets/api-token on any node)", null);
        }
    }



    private static MemberId optionalMember(JsonNode body, String field) throws ApiRefusal {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual() || !MemberId.isValid(v.asText())) {
            throw new ApiRefusal(400, field + ": '" + v + "' is not a member id", field);
        }
        return MemberId.of(v.asText());
    }





    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
