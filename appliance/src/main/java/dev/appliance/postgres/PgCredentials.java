package dev.appliance.postgres;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The two roles the appliance uses: the daemon's superuser ({@value #SUPERUSER}) and the replication role
 * ({@value #REPLICATION}, which also has the grants pg_rewind needs). Passwords come from SecureRandom and are
 * the same on every node of a cluster (the roles replicate with the data); they are kept in files readable
 * only by their owner and never appear on a command line or in a log.
 */
public record PgCredentials(String superuserPassword, String replicationPassword) {
    public static final String SUPERUSER = "appliance";
    public static final String REPLICATION = "appliance_replication";
    private static final String SUPERUSER_FILE = "postgres-superuser.password";
    private static final String REPLICATION_FILE = "postgres-replication.password";
    private static final SecureRandom RANDOM = new SecureRandom();

    public PgCredentials {
        if (superuserPassword == null || superuserPassword.length() < 16 || replicationPassword == null
                || replicationPassword.length() < 16) {
            throw new IllegalArgumentException("passwords must be at least 16 characters");
        }
    }

    public static PgCredentials generate() {
        return new PgCredentials(randomSecret(), randomSecret());
    }

    public static String randomSecret() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    /** Reads the credentials saved in {@code secretsDir}; empty when none were saved there. */
    public static java.util.Optional<PgCredentials> load(Path secretsDir) throws IOException {
        Path su = secretsDir.resolve(SUPERUSER_FILE);
        Path repl = secretsDir.resolve(REPLICATION_FILE);
        if (!Files.exists(su) && !Files.exists(repl)) {
            return java.util.Optional.empty();
        }
        if (!Files.exists(su) || !Files.exists(repl)) {
            throw new IOException("only one of " + su + " and " + repl + " exists; restore the missing one from a backup "
                    + "of this node (the passwords are the cluster's and cannot be regenerated)");
        }
        try {
            return java.util.Optional.of(new PgCredentials(Files.readString(su, StandardCharsets.UTF_8).trim(),
                    Files.readString(repl, StandardCharsets.UTF_8).trim()));
        } catch (IllegalArgumentException e) {
            throw new IOException("the postgres credentials in " + secretsDir + " are damaged (" + e.getMessage() + ")");
        }
    }

    /** Saves the credentials in {@code secretsDir} (0700), each password in its own 0600 file. */
    public void save(Path secretsDir) throws IOException {
        if (!Files.isDirectory(secretsDir)) {
            Files.createDirectories(secretsDir,
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        Files.setPosixFilePermissions(secretsDir, PosixFilePermissions.fromString("rwx------"));
        writeSecretFile(secretsDir.resolve(SUPERUSER_FILE), superuserPassword + "\n");
        writeSecretFile(secretsDir.resolve(REPLICATION_FILE), replicationPassword + "\n");
    }

    @Override
    public String toString() {
        return "PgCredentials[hidden]";
    }

    /** Writes {@code text} to {@code file} readable only by its owner (0600), atomically. */
    public static void writeSecretFile(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
