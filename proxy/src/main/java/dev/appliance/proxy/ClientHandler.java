package dev.appliance.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection of a leader route. It reads the first packet (a startup message, an SSL or GSS
 * encryption request, or a cancel request), picks the primary (or waits for one), connects to it, hands it
 * everything read so far, and from then on only copies bytes both ways: writes are flushed once per batch of
 * reads, and each side stops reading while the other side cannot take more (backpressure by writability). SSL and GSS encryption requests are answered 'N' here, as postgres (without
 * TLS) would. A refused connection gets a real ErrorResponse, never a bare reset. A cancel request is carried
 * out only for a backend this proxy forwarded to, through the daemon's {@link CancelPolicy}.
 */
final class ClientHandler extends ChannelInboundHandlerAdapter implements LeaderRouter.Waiter {
    private static final Logger LOG = LoggerFactory.getLogger(ClientHandler.class);
    private static final Duration FIRST_PACKET_TIMEOUT = Duration.ofSeconds(10);
    private static final int CONNECT_TIMEOUT_MS = 3000;
    private static final long RETRY_CONNECT_MS = 25;

    private enum Phase { FIRST_PACKET, ROUTING, REFUSING, PIPING }

    private final LeaderRouter router;
    private final ProxyMetrics metrics;
    private final java.util.function.Supplier<SocketChannel> newSocket;
    private final Duration holdTimeout;
    private final BackendKeys keys;
    private final java.util.function.Consumer<BackendKeys.Entry> cancel;
    private ChannelHandlerContext ctx;
    private Phase phase = Phase.FIRST_PACKET;
    private ByteBuf pending;
    /** The primary's side: connected ahead of the startup packet, or after it; paired once phase is PIPING. */
    private Channel backend;
    private RouteState.Forward backendTarget;
    private long acceptedAt;
    private long holdDeadline;
    private long holdStartedAt;
    private ScheduledFuture<?> firstPacketTimer;
    private ChannelFuture connecting;

    ClientHandler(LeaderRouter router, ProxyMetrics metrics, java.util.function.Supplier<SocketChannel> newSocket,
            Duration holdTimeout,
            BackendKeys keys, java.util.function.Consumer<BackendKeys.Entry> cancel) {
        this.router = router;
        this.metrics = metrics;
        this.newSocket = newSocket;
        this.holdTimeout = holdTimeout;
        this.keys = keys;
        this.cancel = cancel;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        acceptedAt = System.nanoTime();
        metrics.opened();
        pending = ctx.alloc().buffer(256);
        firstPacketTimer = ctx.executor().schedule(() -> {
            if (phase == Phase.FIRST_PACKET || phase == Phase.REFUSING) {
                ctx.close();
            }
        }, FIRST_PACKET_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        ctx.read();
        if (router.state() instanceof RouteState.Forward target) {
            connect(target);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf in = (ByteBuf) msg;
        if (phase == Phase.PIPING) {
            metrics.toServer(in.readableBytes());
            backend.write(in, backend.voidPromise());
            return;
        }
        if (pending == null) {
            ReferenceCountUtil.release(in);
            return;
        }
        pending.writeBytes(in);
        in.release();
        if (phase == Phase.FIRST_PACKET) {
            onFirstBytes();
        }
    }

    private void onFirstBytes() {
        PgWire.FirstPacket p = PgWire.firstPacket(pending);
        if (p == null) {
            ctx.read();
            return;
        }
        if (!p.ok()) {
            metrics.refused("malformed");
            fail(p.sqlState(), p.problem());
            return;
        }
        if (p.encryptionRequest()) {
            // Postgres runs without TLS here, so it would answer 'N' itself; answering here keeps the stream to it
            // plain from the first byte, which lets the proxy read the backend's cancel key.
            pending.skipBytes(p.length());
            pending.discardReadBytes();
            ctx.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'N'}));
            onFirstBytes();
            return;
        }
        if (p.kind() == PgWire.Kind.CANCEL_REQUEST) {
            int pid = pending.getInt(pending.readerIndex() + 8);
            int secret = pending.getInt(pending.readerIndex() + 12);
            BackendKeys.Entry target = keys.find(BackendKeys.key(pid, secret));
            if (target == null) {
                metrics.refused("cancel_unknown");
                LOG.debug("a cancel request for a backend this proxy did not forward (pid {}): dropped", pid);
            } else {
                cancel.accept(target);
            }
            dropBackend();
            ctx.close();    // a cancel request gets no answer, ever
            return;
        }
        phase = Phase.ROUTING;
        holdDeadline = acceptedAt + holdTimeout.toNanos();
        if (backend != null) {
            pipe();
            return;
        }
        if (connecting != null) {
            return;    // the connect started at accept finishes the job
        }
        if (router.holding()) {
            holdStartedAt = System.nanoTime();
            metrics.holding(true);
        }
        router.route(this, ctx.channel().eventLoop(), holdDeadline);
    }

    @Override
    public void proceed(RouteState.Forward target) {
        if (ctx.channel().isOpen() && phase == Phase.ROUTING) {
            connect(target);
        }
    }

    /**
     * Connects to {@code target}. Called at accept too, before the first packet has arrived, as HAProxy does:
     * postgres forks the backend on accept, so the fork overlaps the client's startup packet instead of following it.
     */
    private void connect(RouteState.Forward target) {
        // A channel made by hand rather than by a Bootstrap: no option maps, no resolver, per connection.
        SocketChannel ch = newSocket.get();
        ch.config().setAutoRead(false);
        ch.config().setTcpNoDelay(true);
        ch.config().setConnectTimeoutMillis(CONNECT_TIMEOUT_MS);
        ch.pipeline().addLast(new BackendHandler(ctx.channel(), metrics, keys, target, this::backendClosedUnpaired));
        router.connecting(this, ctx.channel().eventLoop(), true);
        ChannelFuture registered = ctx.channel().eventLoop().register(ch);    // done at once: this runs on that loop
        ChannelFuture attempt = registered.isDone() && registered.isSuccess() ? ch.connect(router.address(target))
                : registered;
        connecting = attempt;
        attempt.addListener((ChannelFutureListener) f -> {
            if (connecting != attempt) {
                f.channel().close();    // superseded: the route moved while it was connecting
                return;
            }
            connecting = null;
            if (!f.isSuccess()) {
                router.connecting(this, ctx.channel().eventLoop(), false);
                if (phase == Phase.ROUTING) {
                    unreachable(target, f.cause());
                }    // else the first packet has not arrived yet: it routes again when it does
                return;
            }
            if (!ctx.channel().isOpen() || phase == Phase.REFUSING) {
                router.connecting(this, ctx.channel().eventLoop(), false);
                f.channel().close();
                return;
            }
            backend = f.channel();
            backendTarget = target;
            if (phase == Phase.ROUTING) {
                pipe();
            }    // else it waits for the startup packet, still dropped if the route moves meanwhile
        });
    }

    /** Both the startup packet and the connection to the primary are here: join them, unless the route moved. */
    private void pipe() {
        router.connecting(this, ctx.channel().eventLoop(), false);
        ChannelGroup pairs = router.pairsIfCurrent(backendTarget);
        if (pairs == null) {
            dropBackend();    // the primary changed while connecting: route again
            router.route(this, ctx.channel().eventLoop(), holdDeadline);
            return;
        }
        endHold();
        pairs.add(ctx.channel());
        pairs.add(backend);
        backend.pipeline().get(BackendHandler.class).paired();
        phase = Phase.PIPING;
        ByteBuf data = pending;
        pending = null;
        metrics.toServer(data.readableBytes());
        backend.writeAndFlush(data).addListener((ChannelFutureListener) w -> {
            if (w.isSuccess()) {
                // From here on both sides read on their own; each stops while the other side's socket is full.
                ctx.channel().config().setAutoRead(true);
                backend.config().setAutoRead(true);
            } else {
                ctx.close();
            }
        });
    }

    /** A connection made ahead of the startup packet closed before it was used (postgres went away). */
    private void backendClosedUnpaired(Channel closed) {
        if (closed == backend && phase != Phase.PIPING) {
            backend = null;
            backendTarget = null;
            router.connecting(this, ctx.channel().eventLoop(), false);
        }
    }

    /** Drops a connection to the primary that is not (or no longer) wanted, and any connect still pending. */
    private void dropBackend() {
        if (connecting != null) {
            ChannelFuture attempt = connecting;
            connecting = null;
            attempt.channel().close();
        }
        if (backend != null && phase != Phase.PIPING) {
            Channel b = backend;
            backend = null;
            backendTarget = null;
            b.close();
        }
        router.connecting(this, ctx.channel().eventLoop(), false);
    }

    /** The primary did not take the connection: try again (the route may change meanwhile) until the deadline. */
    private void unreachable(RouteState.Forward target, Throwable cause) {
        if (!ctx.channel().isOpen()) {
            return;
        }
        if (cause instanceof io.netty.channel.ConnectTimeoutException) {
            // Silence, not a refusal: this node may be cut off from a primary that others still reach. Waiting
            // here would keep the client from the nodes that do reach it; a refused connect (postgres restarting,
            // or gone with its failover on the way) is retried below instead.
            metrics.refused("silent_primary");
            fail(PgWire.CANNOT_CONNECT_NOW, "the primary " + target + " does not answer this node (no reply in "
                    + CONNECT_TIMEOUT_MS / 1000 + " s): this node may be cut off from it; connect through another "
                    + "node, or try again");
            return;
        }
        if (System.nanoTime() + RETRY_CONNECT_MS * 1_000_000 >= holdDeadline) {
            metrics.refused("unreachable");
            fail(PgWire.CANNOT_CONNECT_NOW, "the primary " + target + " cannot be reached (" + cause.getMessage()
                    + "); a failover may be in progress, try again");
            return;
        }
        if (holdStartedAt == 0) {
            holdStartedAt = System.nanoTime();
            metrics.holding(true);
        }
        ctx.executor().schedule(() -> router.route(this, ctx.channel().eventLoop(), holdDeadline), RETRY_CONNECT_MS,
                TimeUnit.MILLISECONDS);
    }

    @Override
    public void targetChanged() {
        if (phase == Phase.PIPING || phase == Phase.REFUSING || !ctx.channel().isOpen()
                || (connecting == null && backend == null)) {
            return;
        }
        dropBackend();
        if (phase == Phase.ROUTING) {
            router.route(this, ctx.channel().eventLoop(), holdDeadline);
        }
    }

    @Override
    public void refuse(RouteState why) {
        if (!ctx.channel().isOpen() || phase != Phase.ROUTING) {
            return;
        }
        endHold();
        if (why instanceof RouteState.Refuse r) {
            metrics.refused("fenced");
            fail(PgWire.CANNOT_CONNECT_NOW, "this node does not route connections now: " + r.why());
        } else {
            metrics.refused("no_primary");
            String detail = why instanceof RouteState.Hold h ? h.why() : why.toString();
            fail(PgWire.CANNOT_CONNECT_NOW, "no primary within " + holdTimeout.toSeconds() + " s: a failover is in "
                    + "progress (" + detail + "); try again");
        }
    }

    private void endHold() {
        if (holdStartedAt != 0) {
            metrics.holding(false);
            metrics.held(System.nanoTime() - holdStartedAt);
            holdStartedAt = 0;
        }
    }

    /** Answers with a FATAL ErrorResponse and closes. */
    private void fail(String sqlState, String message) {
        dropBackend();
        phase = Phase.REFUSING;
        ctx.writeAndFlush(PgWire.fatal(ctx.alloc(), sqlState, message)).addListener(ChannelFutureListener.CLOSE);
    }

    /** One flush per batch of reads, not one per read. */
    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (phase == Phase.PIPING) {
            backend.flush();
        }
    }

    /** Backpressure: stop reading from the primary while the client cannot take more. */
    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (backend != null) {
            backend.config().setAutoRead(ctx.channel().isWritable());
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        metrics.closed();
        endHold();
        if (firstPacketTimer != null) {
            firstPacketTimer.cancel(false);
        }
        router.cancel(this, ctx.channel().eventLoop());
        if (pending != null) {
            pending.release();
            pending = null;
        }
        if (phase == Phase.PIPING) {
            BackendHandler.closeOnFlush(backend);
        } else {
            dropBackend();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("client {}: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
