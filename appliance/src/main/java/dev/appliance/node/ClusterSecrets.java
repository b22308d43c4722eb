package dev.appliance.node;

import com.fasterxml.jackson.databind.JsonNode;
import dev.appliance.consensus.state.Versioned;
import dev.appliance.consensus.store.Command;
import dev.appliance.consensus.store.RaftStore;
import dev.appliance.consensus.store.WriteResult;
import dev.appliance.postgres.PgCredentials;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The secrets every member shares: postgres' superuser and replication passwords (the roles replicate with the
 * data) and the API's bearer token. The first member to start generates them and writes them to the store
 * once, by compare-and-set; every member keeps a copy in {@code secrets/} (0700, files 0600).
 */
public record ClusterSecrets(PgCredentials postgres, String apiToken) {
    public static final String KEY = "secrets";
    private static final String TOKEN_FILE = "api-token";

    public ClusterSecrets {
        if (apiToken == null || apiToken.length() < 16) {
            throw new IllegalArgumentException("the API token must be at least 16 characters");
        }
    }

    @Override
    public String toString() {
        return "ClusterSecrets[hidden]";
    }

    static ClusterSecrets generate() {
        return new ClusterSecrets(PgCredentials.generate(), PgCredentials.randomSecret());
    }

    /** The secrets kept in {@code dir}, if any. */
    public static Optional<ClusterSecrets> load(Path dir) throws IOException {
        Optional<PgCredentials> pg = PgCredentials.load(dir);
        Path token = dir.resolve(TOKEN_FILE);
        if (pg.isEmpty() && !Files.exists(token)) {
            return Optional.empty();
        }
        if (pg.isEmpty() || !Files.exists(token)) {
            throw new IOException(dir + " holds only part of the cluster's secrets; restore the rest from another "
                    + "member's " + dir.getFileName() + " directory");
        }
        return Optional.of(new ClusterSecrets(pg.get(), Files.readString(token, StandardCharsets.UTF_8).trim()));
    }

    void save(Path dir) throws IOException {
        postgres.save(dir);
        Path tmp = dir.resolve(TOKEN_FILE + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tmp, apiToken + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, dir.resolve(TOKEN_FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * Settles this member's secrets with the cluster's: the store's copy wins where there is one; a member
     * with none of its own adopts it; the first member writes its own (or fresh ones). A member whose copy
     * differs from the store's refuses to start, since its postgres data would not match its passwords.
     */
    static ClusterSecrets settle(RaftStore store, Path dir, long waitMillis) throws IOException {
        Optional<ClusterSecrets> local = load(dir);
        long deadline = System.currentTimeMillis() + waitMillis;
        while (true) {
            try {
                Optional<Versioned<String>> stored = get(store.readLinearizable(KEY), deadline);
                if (stored.isPresent()) {
                    ClusterSecrets agreed = decode(stored.get().value());
                    if (local.isPresent() && !local.get().equals(agreed)) {
                        throw new IOException("the secrets in " + dir + " differ from the cluster's. This node's data "
                                + "belongs to another cluster, or its secrets were replaced. Move " + dir + " away to "
                                + "adopt the cluster's secrets (and re-clone this node), or restore the matching ones.");
                    }
                    if (local.isEmpty()) {
                        agreed.save(dir);
                    }
                    return agreed;
                }
                ClusterSecrets mine = local.orElseGet(ClusterSecrets::generate);
                WriteResult w = get(store.put(new Command.Put(KEY, 0, mine.encode(), List.of(),
                        store.config().self().value(), "the cluster's shared secrets, written once")), deadline);
                if (w.ok()) {
                    mine.save(dir);
                    return mine;
                }
                // Another member wrote them first: the next round reads theirs.
            } catch (ExecutionException | TimeoutException e) {
                if (System.currentTimeMillis() >= deadline) {
                    throw new IOException("the consensus store did not answer within " + waitMillis / 1000 + " s: a "
                            + "majority of the members (see 'peers') must be up for a node to start", e);
                }
                sleepQuietly(200);
            }
        }
    }

    private static <T> T get(java.util.concurrent.CompletableFuture<T> f, long deadline)
            throws ExecutionException, TimeoutException, IOException {
        try {
            return f.get(Math.max(1, deadline - System.currentTimeMillis()), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while settling the cluster's secrets", e);
        }
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    String encode() {
        return StatusCodec.JSON.createObjectNode().put("superuserPassword", postgres.superuserPassword())
                .put("replicationPassword", postgres.replicationPassword()).put("apiToken", apiToken).toString();
    }

    static ClusterSecrets decode(String json) throws IOException {
        JsonNode n = StatusCodec.JSON.readTree(json);
        if (n == null || !n.hasNonNull("superuserPassword") || !n.hasNonNull("replicationPassword")
                || !n.hasNonNull("apiToken")) {
            throw new IOException("the cluster's secrets in the store are damaged");
        }
        try {
            return new ClusterSecrets(new PgCredentials(n.get("superuserPassword").asText(),
                    n.get("replicationPassword").asText()), n.get("apiToken").asText());
        } catch (IllegalArgumentException e) {
            throw new IOException("the cluster's secrets in the store are damaged: " + e.getMessage(), e);
        }
    }
}
