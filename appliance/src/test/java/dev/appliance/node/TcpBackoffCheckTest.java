package dev.appliance.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TcpBackoffCheckTest {
    @TempDir
    Path dir;

    @Test
    void theKernelDefaultCeilingGetsAdviceNamingTheSetting() throws Exception {
        Path setting = Files.writeString(dir.resolve("tcp_rto_max_ms"), "120000\n");
        String advice = TcpBackoffCheck.advice(setting).orElseThrow();
        assertTrue(advice.contains("120000 ms") && advice.contains("net.ipv4.tcp_rto_max_ms=1000"), advice);
    }

    @Test
    void aLowCeilingNeedsNoAdvice() throws Exception {
        Path setting = Files.writeString(dir.resolve("tcp_rto_max_ms"), "1000\n");
        assertEquals(Optional.of(1000L), TcpBackoffCheck.ceilingMillis(setting));
        assertEquals(Optional.empty(), TcpBackoffCheck.advice(setting));
    }

    @Test
    void theKernelsOwnFileReadsAsSysctlShowsIt() throws Exception {
        boolean present = Files.exists(TcpBackoffCheck.SETTING);
        if (!present) {
            System.out.println("SKIPPED: reading the kernel's setting: this kernel has no " + TcpBackoffCheck.SETTING);
        }
        Assumptions.assumeTrue(present);
        Process cat = new ProcessBuilder("cat", TcpBackoffCheck.SETTING.toString()).start();
        long expected = Long.parseLong(new String(cat.getInputStream().readAllBytes()).trim());
        assertEquals(Optional.of(expected), TcpBackoffCheck.ceilingMillis(TcpBackoffCheck.SETTING),
                "a sysctl file ends at the first read's end: it must be read in one go");
    }

    @Test
    void aKernelWithoutTheSettingIsNamedAsSuch() {
        String advice = TcpBackoffCheck.advice(dir.resolve("absent")).orElseThrow();
        assertTrue(advice.contains("Linux 6.15"), advice);
    }
}
