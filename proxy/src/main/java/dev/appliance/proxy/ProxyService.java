package dev.appliance.proxy;

import dev.appliance.consensus.state.Route;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's proxy: one listener per agreed route on this node's address, all following the same leader
 * decision ({@link #route(RouteState)}). Native epoll where the platform has it, pooled buffers, no per-byte
 * work in Java: bytes are copied between sockets as pooled buffers, flushed once per batch of reads, and a
 * side stops reading while the other side cannot take more.
 */
public final class ProxyService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ProxyService.class);
    private static final Duration RETRY_BIND = Duration.ofSeconds(5);
    /**
     * How long a connection to the primary may go unanswered (bytes or keepalive probes unacknowledged) before
     * the kernel ends it, and its client's connection with it. Without it, a pair through a node cut off from
     * the primary hangs until the client's own timeout, and after the heal waits out TCP's back-off. A primary
     * that is only slow still acknowledges at once: the kernel does, whatever postgres is busy with.
     */
    static final Duration SILENT_PRIMARY = Duration.ofSeconds(5);

    private record Listener(Route route, Channel server, ChannelGroup clients) {
    }

    private final String host;
    private final Duration holdTimeout;
    private final ProxyMetrics metrics;
    private final LeaderRouter router;
    private final EventLoopGroup acceptors;
    private final EventLoopGroup workers;
    private final Class<? extends ServerChannel> serverType;
    private final java.util.function.Supplier<SocketChannel> newSocket;
    private final Map<String, Listener> listeners = new TreeMap<>();
    private final Map<String, String> problems = new TreeMap<>();
    private final Map<String, Long> lastBindAttempt = new TreeMap<>();
    private final BackendKeys keys = new BackendKeys();
    private final java.util.concurrent.ExecutorService cancels;
    private final CancelPolicy cancelPolicy;

    public ProxyService(String host, Duration holdTimeout, MeterRegistry registry, CancelPolicy cancelPolicy) {
        this.host = host;
        this.holdTimeout = holdTimeout;
        this.cancelPolicy = cancelPolicy;
        this.cancels = java.util.concurrent.Executors.newSingleThreadExecutor(new DefaultThreadFactory("proxy-cancel", true));
        this.metrics = new ProxyMetrics(registry);
        this.router = new LeaderRouter(metrics);
        int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
        if (Epoll.isAvailable()) {
            acceptors = new EpollEventLoopGroup(1, new DefaultThreadFactory("proxy-accept", true));
            workers = new EpollEventLoopGroup(threads, new DefaultThreadFactory("proxy", true));
            serverType = EpollServerSocketChannel.class;
            newSocket = ProxyService::primarySocket;
        } else {
            acceptors = new NioEventLoopGroup(1, new DefaultThreadFactory("proxy-accept", true));
            workers = new NioEventLoopGroup(threads, new DefaultThreadFactory("proxy", true));
            serverType = NioServerSocketChannel.class;
            newSocket = NioSocketChannel::new;
        }
    }

    /** A socket to the primary that ends once the primary stops answering for {@link #SILENT_PRIMARY}. */
    private static SocketChannel primarySocket() {
        EpollSocketChannel ch = new EpollSocketChannel();
        ch.config().setKeepAlive(true).setTcpKeepIdle(2).setTcpKeepIntvl(1).setTcpKeepCnt(3)
                .setTcpUserTimeout((int) SILENT_PRIMARY.toMillis());
        return ch;
    }

    /** Whether the native epoll transport is in use (else Java NIO). */
    public static boolean nativeTransport() {
        return Epoll.isAvailable();
    }

    /** Where leader routes send new connections from now on. */
    public void route(RouteState state) {
        router.update(state);
    }

    public RouteState state() {
        return router.state();
    }

    /**
     * Listens for exactly {@code routes}: new ones are bound at once, removed ones closed with their
     * connections. A port that cannot be bound is reported in {@link #problems()} and tried again later.
     */
    public synchronized void routes(Collection<Route> routes) {
        Map<String, Route> wanted = new TreeMap<>();
        routes.forEach(r -> wanted.put(r.id(), r));
        for (String id : java.util.List.copyOf(listeners.keySet())) {
            Listener l = listeners.get(id);
            if (!l.route().equals(wanted.get(id))) {
                listeners.remove(id);
                l.server().close().awaitUninterruptibly(2, TimeUnit.SECONDS);    // unbound when this returns
                l.clients().close();
                LOG.info("proxy: route {} removed; {}:{} closed", id, host, l.route().port());
            }
        }
        problems.keySet().retainAll(wanted.keySet());
        lastBindAttempt.keySet().retainAll(wanted.keySet());
        long now = System.nanoTime();
        for (Route r : wanted.values()) {
            if (listeners.containsKey(r.id())) {
                continue;
            }
            Long last = lastBindAttempt.get(r.id());
            if (last != null && now - last < RETRY_BIND.toNanos()) {
                continue;
            }
            lastBindAttempt.put(r.id(), now);
            bind(r);
        }
    }

    private void bind(Route r) {
        ChannelGroup clients = new DefaultChannelGroup("route-" + r.id(), GlobalEventExecutor.INSTANCE, true);
        ServerBootstrap b = new ServerBootstrap().group(acceptors, workers).channel(serverType)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        clients.add(ch);
                        ch.pipeline().addLast(new ClientHandler(router, metrics, newSocket, holdTimeout, keys,
                                ProxyService.this::cancel));
                    }
                });
        try {
            Channel server = b.bind(new InetSocketAddress(host, r.port())).sync().channel();
            listeners.put(r.id(), new Listener(r, server, clients));
            problems.remove(r.id());
            LOG.info("proxy: route {} ({} leader) listens on {}:{}", r.id(), r.service(), host, r.port());
        } catch (Exception e) {
            String why = "cannot listen on " + host + ":" + r.port() + " (" + e.getMessage() + ")";
            if (!why.equals(problems.put(r.id(), why))) {
                LOG.error("proxy: route {}: {}; trying again every {} s", r.id(), why, RETRY_BIND.toSeconds());
            }
        }
    }

    private void cancel(BackendKeys.Entry target) {
        try {
            cancels.execute(() -> {
                try {
                    cancelPolicy.cancel(target.primary(), target.pid());
                } catch (RuntimeException e) {
                    LOG.warn("proxy: cancelling backend {} on {} failed: {}", target.pid(), target.primary(), e.toString());
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            // the proxy is closing
        }
    }

    /** Route id → the port this node listens on for it. */
    public synchronized Map<String, Integer> listening() {
        Map<String, Integer> out = new TreeMap<>();
        listeners.forEach((id, l) -> out.put(id, ((InetSocketAddress) l.server().localAddress()).getPort()));
        return out;
    }

    /** Route id → why this node does not listen for it. */
    public synchronized Map<String, String> problems() {
        return Map.copyOf(problems);
    }

    public int activeConnections() {
        return metrics.active();
    }

    @Override
    public synchronized void close() {
        for (Listener l : listeners.values()) {
            l.server().close();
            l.clients().close();
        }
        listeners.clear();
        router.closeAll();
        cancels.shutdownNow();
        acceptors.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
}
