package dev.appliance.resources;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CredentialCipherTest {
    private final CredentialCipher cipher = new CredentialCipher("cluster secret");

    @Test
    void aSealedPasswordOpensOnlyWithTheSameKeyAndResource() {
        String sealed = cipher.seal("hunter2", "shop");
        assertTrue(sealed.startsWith("v1:") && !sealed.contains("hunter2"), sealed);
        assertNotEquals(sealed, cipher.seal("hunter2", "shop"), "a fresh nonce each time");
        assertEquals("hunter2", cipher.open(sealed, "shop"));
        assertThrows(IllegalStateException.class, () -> cipher.open(sealed, "other"), "bound to its resource");
        assertThrows(IllegalStateException.class, () -> new CredentialCipher("another cluster").open(sealed, "shop"));
        String altered = sealed.substring(0, sealed.length() - 4) + (sealed.endsWith("AAAA") ? "BBBB" : "AAAA");
        assertThrows(IllegalStateException.class, () -> cipher.open(altered, "shop"));
        assertThrows(IllegalStateException.class, () -> cipher.open("plain", "shop"));
    }

    @Test
    void resourceIdsAreSafeDatabaseAndRoleNames() {
        assertNull(Resource.invalidId("shop_2"));
        for (String bad : new String[] {"", "2shop", "Shop", "a-b", "pg_x", "postgres", "template1", "appliance", "public",
                "x".repeat(64), "a\"b"}) {
            assertTrue(Resource.invalidId(bad) != null, bad);
        }
    }
}
