package dev.appliance.resources;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Seals resource passwords before they are stored in the database (AES-256-GCM). The key derives from the
 * cluster's postgres superuser password, which every daemon holds and postgres itself never stores in clear, so
 * a copy of the database (a dump, a stolen replica volume) does not hand out application passwords.
 */
final class CredentialCipher {
    private static final String PREFIX = "v1:";
    private static final int IV_BYTES = 12;
    private static final SecureRandom RANDOM = new SecureRandom();
    private final SecretKeySpec key;

    CredentialCipher(String clusterSecret) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update("appliance resource credentials v1\0".getBytes(StandardCharsets.UTF_8));
            key = new SecretKeySpec(sha.digest(clusterSecret.getBytes(StandardCharsets.UTF_8)), "AES");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    String seal(String secret, String resourceId) {
        byte[] iv = new byte[IV_BYTES];
        RANDOM.nextBytes(iv);
        try {
            Cipher c = cipher(Cipher.ENCRYPT_MODE, iv, resourceId);
            byte[] sealed = c.doFinal(secret.getBytes(StandardCharsets.UTF_8));
            return PREFIX + Base64.getEncoder().encodeToString(ByteBuffer.allocate(iv.length + sealed.length).put(iv)
                    .put(sealed).array());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("sealing a password failed: " + e.getMessage(), e);
        }
    }

    /** The secret, or an exception saying the value was not sealed by this cluster (or was altered). */
    String open(String sealed, String resourceId) {
        if (sealed == null || !sealed.startsWith(PREFIX)) {
            throw new IllegalStateException("the stored password of resource " + resourceId + " is not in a known format");
        }
        try {
            byte[] all = Base64.getDecoder().decode(sealed.substring(PREFIX.length()));
            if (all.length <= IV_BYTES) {
                throw new IllegalStateException("the stored password of resource " + resourceId + " is truncated");
            }
            byte[] iv = java.util.Arrays.copyOf(all, IV_BYTES);
            Cipher c = cipher(Cipher.DECRYPT_MODE, iv, resourceId);
            return new String(c.doFinal(all, IV_BYTES, all.length - IV_BYTES), StandardCharsets.UTF_8);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IllegalStateException("the stored password of resource " + resourceId + " cannot be read with "
                    + "this cluster's key (altered, or from another cluster)", e);
        }
    }

    private Cipher cipher(int mode, byte[] iv, String resourceId) throws GeneralSecurityException {
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
        c.init(mode, key, new GCMParameterSpec(128, iv));
        c.updateAAD(resourceId.getBytes(StandardCharsets.UTF_8));    // a sealed password is bound to its resource
        return c;
    }
}
