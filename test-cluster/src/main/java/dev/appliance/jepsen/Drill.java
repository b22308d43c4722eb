package dev.appliance.jepsen;

import com.fasterxml.jackson.databind.JsonNode;
import dev.appliance.api.ApiClient;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.function.Consumer;

/**
 * A failover drill on a live cluster ({@code appliance drill}): the append workload through the leader route, one
 * fault on the primary (a crash, a partition, or a planned switchover), then the checkers. It reports the
 * downtime (the longest gap between acknowledged writes) and the acknowledged writes lost, which must be none, and
 * waits until the cluster is healthy again. Its rows live in a resource of its own, {@code drill}, removed after.
 */
public final class Drill {
    /** The drills there are, by their command names. */
    public static final List<String> KINDS = List.of("kill-primary", "partition-primary", "switchover");
    static final String RESOURCE = "drill";

    /** What a drill found. {@code healthy}: every member healthy again, with a primary and a sync. */
    public record Outcome(String kind, String oldPrimary, String newPrimary, long downtimeMillis, long acknowledged,
            long lost, boolean valid, boolean healthy, String picture, Path history) {
    }

    /** How long each phase lasts. {@code faultSeconds}: a partition's length. */
    public record Timing(Duration before, Duration after, int faultSeconds, Duration healLimit) {
    }

    private Drill() {
    }

    public static Outcome run(ApiClient api, String kind, Timing timing, Path historyFile, Consumer<String> progress)
            throws IOException, InterruptedException {
        if (!KINDS.contains(kind)) {
            throw new IllegalArgumentException("no drill '" + kind + "'; there are " + KINDS);
        }
        JsonNode before = require(api.get("/cluster"));
        String unhealthy = unhealthy(before);
        if (unhealthy != null) {
            throw new IllegalStateException("the cluster is not healthy (" + unhealthy + "); a drill starts only on a healthy "
                    + "cluster: see 'appliance cluster status'");
        }
        String primary = before.path("primary").asText();
        String primaryApi = apiOf(before, primary);
        ApiClient.Answer made = api.get("/resources/" + RESOURCE);
        if (made.status() == 404) {
            made = api.post("/resources", ApiClient.JSON.createObjectNode().put("service", "postgres").put("id", RESOURCE));
        }
        JsonNode env = require(made).path("env");
        String url = jdbcUrl(env.path("DATABASE_URL").asText());
        Properties props = new Properties();
        props.setProperty("user", env.path("PGUSER").asText());
        props.setProperty("password", env.path("PGPASSWORD").asText());
        props.setProperty("connectTimeout", "5");
        props.setProperty("socketTimeout", "20");
        History history = new History();
        AppendWorkload workload = new AppendWorkload();
        try (var c = java.sql.DriverManager.getConnection(url, props)) {
            workload.setUp(c);
        } catch (java.sql.SQLException e) {
            throw new IOException("the drill's database cannot be reached through the leader route (" + url + "): "
                    + e.getMessage(), e);
        }
        long started = System.nanoTime();
        Clients clients = new Clients(workload, history, url, props, started);
        clients.start(2, 0, started, 10);
        progress.accept("writing through the leader route for " + timing.before().toSeconds() + " s before the fault");
        Thread.sleep(timing.before().toMillis());

        String fault = switch (kind) {
            case "kill-primary" -> "crash";
            case "partition-primary" -> "partition";
            default -> "switchover";
        };
        event(history, started, kind, primary);
        ApiClient.Answer injected = fault.equals("switchover") ? api.post("/switchover", ApiClient.JSON.createObjectNode())
                : api.at(List.of(primaryApi)).post("/drill", ApiClient.JSON.createObjectNode().put("fault", fault)
                        .put("seconds", timing.faultSeconds()));
        if (!injected.ok()) {
            clients.stop();
            api.delete("/resources/" + RESOURCE);
            throw new IllegalStateException("the fault was refused by " + primary + ": " + injected.error());
        }
        progress.accept(injected.body().path("result").asText(kind + " on " + primary));
        String newPrimary = awaitNewPrimary(api, primary, Duration.ofSeconds(90));
        progress.accept(newPrimary.isEmpty() ? "no new primary within 90 s" : newPrimary + " is the primary");
        Thread.sleep(timing.after().toMillis());
        JsonNode after = awaitHealthy(api, timing.healLimit());
        event(history, started, "heal", primary);
        clients.stop();
        Clients reader = new Clients(workload, history, url, props, started);
        for (Op invoke : workload.finalInvocations(100, System.nanoTime() - started)) {
            JepsenRun.finalRead(reader, history, invoke, started);
        }
        if (historyFile != null) {
            history.write(historyFile);
        }
        List<CheckResult> results = new ArrayList<>(workload.check(history));
        CheckResult gaps = Availability.check(history, 0);
        boolean valid = results.stream().noneMatch(r -> r.verdict() == CheckResult.Verdict.INVALID);
        long lost = results.stream().mapToLong(r -> ((Number) r.facts().getOrDefault("lost", 0)).longValue()).sum();
        long acked = history.ops().stream().filter(o -> o.type() == Op.Type.OK && o.f().equals("append")).count();
        String unhealthyAfter = after == null ? "no answer" : unhealthy(after);
        if (unhealthyAfter == null) {
            api.delete("/resources/" + RESOURCE);
        }
        return new Outcome(kind, primary, newPrimary, ((Number) gaps.facts().get("worstMillis")).longValue(), acked, lost,
                valid, unhealthyAfter == null, after == null ? "" : picture(after), historyFile);
    }

    private static void event(History history, long started, String f, String node) {
        history.add(new Op(-1, Op.NEMESIS, Op.Type.INFO, f, null, List.of(Long.parseLong("0" + node.replaceAll("\\D", ""))),
                System.nanoTime() - started, node));
    }

    private static String awaitNewPrimary(ApiClient api, String old, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                JsonNode s = api.get("/cluster").body();
                String p = s.path("primary").asText("");
                if (!p.isEmpty() && !p.equals(old)) {
                    return p;
                }
            } catch (IOException | RuntimeException notNow) {
                // members come and go during the fault
            }
            Thread.sleep(100);
        }
        return "";
    }

    private static JsonNode awaitHealthy(ApiClient api, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            try {
                last = api.get("/cluster").body();
                if (unhealthy(last) == null) {
                    return last;
                }
            } catch (IOException | RuntimeException notNow) {
                // keep asking
            }
            Thread.sleep(500);
        }
        return last;
    }

    /** Why the cluster in {@code status} is not healthy, or null when it is. */
    static String unhealthy(JsonNode status) {
        if (status.path("primary").asText("").isEmpty()) {
            return "no primary";
        }
        if (status.path("sync").asText("").isEmpty() && !status.path("singleton").asBoolean()) {
            return "no sync";
        }
        List<String> sick = new ArrayList<>();
        status.path("members").forEach(m -> {
            if (!m.path("healthy").asBoolean()) {
                sick.add(m.path("id").asText());
            }
        });
        return sick.isEmpty() ? null : "not healthy: " + String.join(", ", sick);
    }

    static String picture(JsonNode s) {
        List<String> asyncs = new ArrayList<>();
        s.path("asyncs").forEach(a -> asyncs.add(a.asText()));
        return "generation " + s.path("generation").asLong() + ", primary " + s.path("primary").asText() + ", sync "
                + s.path("sync").asText("none") + ", asyncs " + (asyncs.isEmpty() ? "none" : String.join(" ", asyncs));
    }

    private static String apiOf(JsonNode status, String member) {
        for (JsonNode m : status.path("members")) {
            if (m.path("id").asText().equals(member)) {
                return m.path("api").asText();
            }
        }
        throw new IllegalStateException("the primary " + member + " has no API address in the cluster's status");
    }

    /** {@code postgres://user:pw@h1:p1,h2:p2/db} to {@code jdbc:postgresql://h1:p1,h2:p2/db}. */
    static String jdbcUrl(String databaseUrl) {
        int at = databaseUrl.lastIndexOf('@');
        if (!databaseUrl.startsWith("postgres://") || at < 0) {
            throw new IllegalStateException("an unexpected DATABASE_URL for the drill's resource: " + databaseUrl);
        }
        return "jdbc:postgresql://" + databaseUrl.substring(at + 1);
    }

    private static JsonNode require(ApiClient.Answer a) throws IOException {
        if (!a.ok()) {
            throw new IOException(a.error());
        }
        return a.body();
    }
}
