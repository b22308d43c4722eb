package dev.appliance.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The primary's side of a forwarded pair: copies what postgres sends back to the client, flushing once per batch
 * of reads, and stops the client's reads while postgres' socket is full.
 * Until the session is ready it also reads (without consuming) the backend's cancel key.
 */
final class BackendHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(BackendHandler.class);
    private final Channel client;
    private final ProxyMetrics metrics;
    private final BackendKeys keys;
    private final RouteState.Forward primary;
    private final BackendKeys.Reader reader = new BackendKeys.Reader();
    private final java.util.function.Consumer<Channel> closedUnpaired;
    private long key = -1;
    private boolean paired;

    BackendHandler(Channel client, ProxyMetrics metrics, BackendKeys keys, RouteState.Forward primary,
            java.util.function.Consumer<Channel> closedUnpaired) {
        this.client = client;
        this.closedUnpaired = closedUnpaired;
        this.metrics = metrics;
        this.keys = keys;
        this.primary = primary;
    }

    /** From now on this connection and the client's live and die together. */
    void paired() {
        paired = true;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf in = (ByteBuf) msg;
        if (!reader.done() && key == -1) {
            long k = reader.feed(in);
            if (k != -1) {
                key = k;
                keys.add(k, primary, (int) (k >>> 32));
            }
        }
        metrics.toClient(in.readableBytes());
        client.write(in, client.voidPromise());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        client.flush();
    }

    /** Backpressure: stop reading from the client while the primary cannot take more. */
    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        client.config().setAutoRead(ctx.channel().isWritable());
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (key != -1) {
            keys.remove(key);
        }
        if (paired) {
            closeOnFlush(client);
        } else {
            closedUnpaired.accept(ctx.channel());
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("primary {}: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }

    /** Closes {@code c} once what was written to it has been sent. */
    static void closeOnFlush(Channel c) {
        if (c.isActive()) {
            c.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        } else {
            c.close();
        }
    }
}
