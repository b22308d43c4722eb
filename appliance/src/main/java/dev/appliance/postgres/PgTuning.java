package dev.appliance.postgres;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Memory and parallelism settings derived from what the node may use, so postgres is sized for its machine
 * (Flynn's fixed 32 MB of shared_buffers was its most asked-for fix). The operator's overrides win.
 */
final class PgTuning {
    static final int MAX_CONNECTIONS = 200;

    private PgTuning() {
    }

    static Map<String, String> derive(long memoryBytes, int cpus) {
        long mb = memoryBytes >> 20;
        long sharedBuffers = clamp(mb / 4, 32, 16 * 1024);
        long maintenance = clamp(mb / 16, 16, 2 * 1024);
        long workMemKb = clamp((mb - sharedBuffers) * 1024 / (MAX_CONNECTIONS * 3L), 1024, 256 * 1024);
        Map<String, String> s = new LinkedHashMap<>();
        s.put("max_connections", Integer.toString(MAX_CONNECTIONS));
        s.put("shared_buffers", sharedBuffers + "MB");
        s.put("effective_cache_size", clamp(mb * 3 / 4, 64, Long.MAX_VALUE) + "MB");
        s.put("maintenance_work_mem", maintenance + "MB");
        s.put("work_mem", workMemKb + "kB");
        s.put("max_worker_processes", Integer.toString(Math.max(8, cpus)));
        s.put("max_parallel_workers", Integer.toString(cpus));
        s.put("max_parallel_workers_per_gather", Integer.toString(Math.max(1, cpus / 2)));
        s.put("max_parallel_maintenance_workers", Integer.toString(Math.max(1, cpus / 2)));
        s.put("checkpoint_completion_target", "0.9");
        long maxWalMb = mb >= 8 * 1024 ? 4096 : 1024;
        s.put("max_wal_size", maxWalMb + "MB");
        // A deposed primary's shutdown checkpoint would otherwise recycle the WAL back to the last checkpoint it
        // shares with the new primary, which pg_rewind must read: keep one checkpoint distance of WAL.
        s.put("wal_keep_size", maxWalMb + "MB");
        s.put("min_wal_size", (mb >= 8 * 1024 ? 1024 : 80) + "MB");
        s.put("random_page_cost", "1.1");
        s.put("effective_io_concurrency", "200");
        return s;
    }

    private static long clamp(long v, long min, long max) {
        return Math.max(min, Math.min(max, v));
    }
}
