package dev.appliance.peer;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The engine stays pure: no I/O, no network, no threads, no clock of its own, nothing of the edges. */
class EnginePurityTest {
    private static final Path SOURCES = Path.of("src/main/java/dev/appliance/peer");

    private static final List<Pattern> FORBIDDEN = List.of(
            Pattern.compile("import\\s+java\\.io\\."),
            Pattern.compile("import\\s+java\\.net\\."),
            Pattern.compile("import\\s+java\\.nio\\.file\\."),
            Pattern.compile("import\\s+java\\.util\\.concurrent\\."),
            Pattern.compile("import\\s+java\\.util\\.Random"),
            Pattern.compile("import\\s+org\\.postgresql\\."),
            Pattern.compile("import\\s+io\\.netty\\."),
            Pattern.compile("import\\s+org\\.apache\\.ratis\\."),
            Pattern.compile("import\\s+org\\.slf4j\\."),
            Pattern.compile("Instant\\.now\\("),
            Pattern.compile("System\\.currentTimeMillis\\("),
            Pattern.compile("System\\.nanoTime\\("),
            Pattern.compile("Clock\\.system"),
            Pattern.compile("new\\s+Thread\\("),
            Pattern.compile("Math\\.random\\("),
            Pattern.compile("System\\.(out|err|getenv|getProperty)"));

    @Test
    void decisionEngineSourcesUseNoIoThreadsOrClock() throws IOException {
        assertTrue(Files.isDirectory(SOURCES), "run from the appliance module: " + SOURCES.toAbsolutePath());
        List<String> violations = new ArrayList<>();
        List<Path> files;
        try (Stream<Path> walk = Files.walk(SOURCES)) {
            files = walk.filter(p -> p.toString().endsWith(".java")).toList();
        }
        assertTrue(files.size() >= 10, "expected the engine sources, found " + files);
        for (Path file : files) {
            List<String> lines = Files.readAllLines(file);
            for (int i = 0; i < lines.size(); i++) {
                for (Pattern p : FORBIDDEN) {
                    if (p.matcher(lines.get(i)).find()) {
                        violations.add(file.getFileName() + ":" + (i + 1) + ": " + lines.get(i).trim());
                    }
                }
            }
        }
        assertTrue(violations.isEmpty(), "the decision engine must stay pure:\n" + String.join("\n", violations));
    }
}
