package dev.appliance.proxy;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** The proxy's meters, registered once per node (names start {@code appliance_proxy_}). */
final class ProxyMetrics {
    private final MeterRegistry registry;
    private final AtomicInteger active = new AtomicInteger();
    private final AtomicInteger holding = new AtomicInteger();
    private final Counter total;
    private final Counter held;
    private final Counter toServer;
    private final Counter toClient;
    private final Counter switches;
    private final Timer holdTime;
    private final ConcurrentHashMap<String, Counter> refused = new ConcurrentHashMap<>();

    ProxyMetrics(MeterRegistry registry) {
        this.registry = registry;
        Gauge.builder("appliance_proxy_connections_active", active, AtomicInteger::get)
                .description("client connections open through the proxy").register(registry);
        Gauge.builder("appliance_proxy_connections_holding", holding, AtomicInteger::get)
                .description("client connections waiting for a primary").register(registry);
        total = Counter.builder("appliance_proxy_connections").description("client connections accepted")
                .register(registry);
        held = Counter.builder("appliance_proxy_connections_held")
                .description("client connections that had to wait for a primary").register(registry);
        toServer = Counter.builder("appliance_proxy_bytes").tag("direction", "to_server")
                .description("bytes forwarded").register(registry);
        toClient = Counter.builder("appliance_proxy_bytes").tag("direction", "to_client")
                .description("bytes forwarded").register(registry);
        switches = Counter.builder("appliance_proxy_route_switches")
                .description("changes of where the leader routes send connections").register(registry);
        holdTime = Timer.builder("appliance_proxy_hold").description("how long connections waited for a primary")
                .publishPercentileHistogram().maximumExpectedValue(Duration.ofSeconds(30)).register(registry);
    }

    void opened() {
        active.incrementAndGet();
        total.increment();
    }

    void closed() {
        active.decrementAndGet();
    }

    void holding(boolean start) {
        if (start) {
            holding.incrementAndGet();
            held.increment();
        } else {
            holding.decrementAndGet();
        }
    }

    void held(long nanos) {
        holdTime.record(Duration.ofNanos(nanos));
    }

    void refused(String reason) {
        refused.computeIfAbsent(reason, r -> Counter.builder("appliance_proxy_connections_refused").tag("reason", r)
                .description("client connections refused").register(registry)).increment();
    }

    void toServer(int bytes) {
        toServer.increment(bytes);
    }

    void toClient(int bytes) {
        toClient.increment(bytes);
    }

    void switched() {
        switches.increment();
    }

    int active() {
        return active.get();
    }
}
