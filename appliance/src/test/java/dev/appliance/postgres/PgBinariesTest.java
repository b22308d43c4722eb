package dev.appliance.postgres;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PgBinariesTest {
    @Test
    void aBadPgBinSaysWhatIsMissing(@TempDir Path dir) {
        IOException e = assertThrows(IOException.class, () -> PgBinaries.discover(Map.of("PG_BIN", dir.toString()), dir));
        assertTrue(e.getMessage().contains("PG_BIN=" + dir) && e.getMessage().contains("no postgres"), e.getMessage());
    }

    @Test
    void nothingFoundListsEveryPlaceTried(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("14/bin"));
        IOException e = assertThrows(IOException.class, () -> PgBinaries.discover(Map.of("PATH", "/nonexistent"),
                dir));
        assertTrue(e.getMessage().contains(dir.resolve("14/bin").toString()), e.getMessage());
        assertTrue(e.getMessage().contains("apt-get install postgresql-15"), e.getMessage());
    }
}
