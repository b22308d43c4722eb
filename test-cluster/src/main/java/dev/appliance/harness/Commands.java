package dev.appliance.harness;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The harness's system commands (iptables, ip, ...), each bounded to 10 s. */
public final class Commands {
    private Commands() {
    }

    /** Whether {@code command} ran and exited 0. */
    public static boolean succeeds(String... command) {
        try {
            run(List.of(command));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Runs {@code command} and returns what it printed; unless it exits 0, throws with that. */
    public static String run(List<String> command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", command) + " did not finish within 10 s");
            }
            if (p.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + " failed: " + out);
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}
