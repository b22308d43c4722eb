package dev.appliance.proxy;

import io.netty.channel.EventLoop;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where leader routes send connections, shared by every route of the node. Every forwarded connection pair
 * joins the group of its target; when the target changes (another primary, none, or this node fenced) that
 * group is closed at once, so no client keeps talking to a deposed primary. Connections that arrive while
 * there is no primary wait here, each until its own deadline.
 */
final class LeaderRouter {
    private static final Logger LOG = LoggerFactory.getLogger(LeaderRouter.class);

    /** A connection waiting for a target. Called on the connection's event loop. */
    interface Waiter {
        void proceed(RouteState.Forward target);

        void refuse(RouteState why);

        /** The route moved while this connection was connecting to the previous target: route it again. */
        void targetChanged();
    }

    private record Held(Waiter waiter, EventLoop loop) {
    }

    private final ProxyMetrics metrics;
    private RouteState state = new RouteState.Hold("the node has not decided where to route yet");
    private ChannelGroup pairs = newGroup();
    private final Set<Held> held = new LinkedHashSet<>();
    private final Set<Held> connecting = new LinkedHashSet<>();

    /** The latest target's socket address, resolved once rather than once per connection. */
    private volatile java.util.Map.Entry<RouteState.Forward, java.net.InetSocketAddress> resolved;

    LeaderRouter(ProxyMetrics metrics) {
        this.metrics = metrics;
    }

    synchronized RouteState state() {
        return state;
    }

    /** The node's latest decision. A different target closes every connection to the previous one. */
    void update(RouteState next) {
        Objects.requireNonNull(next, "route state");
        ChannelGroup toClose;
        List<Held> resume = List.of();
        List<Held> moved;
        synchronized (this) {
            if (next.equals(state)) {
                return;
            }
            RouteState previous = state;
            state = next;
            toClose = pairs;
            pairs = newGroup();
            if (previous instanceof RouteState.Forward || next instanceof RouteState.Forward) {
                metrics.switched();
            }
            if (!(previous instanceof RouteState.Hold && next instanceof RouteState.Hold)) {
                LOG.info("leader routes: {} (was {})", describe(next), describe(previous));
            }
            if (!(next instanceof RouteState.Hold)) {
                resume = List.copyOf(held);
                held.clear();
            }
            moved = List.copyOf(connecting);
            connecting.clear();
        }
        // A connect to the old target may hang (a dead host answers nothing): drop it and route again now.
        for (Held h : moved) {
            h.loop().execute(() -> h.waiter().targetChanged());
        }
        if (!toClose.isEmpty()) {
            toClose.close();
        }
        for (Held h : resume) {
            h.loop().execute(() -> route(h.waiter(), h.loop(), Long.MAX_VALUE));
        }
    }

    /**
     * Routes one connection now, or holds it until {@code deadlineNanos} ({@link System#nanoTime()}); a
     * deadline of {@code Long.MAX_VALUE} means one was already set.
     */
    void route(Waiter waiter, EventLoop loop, long deadlineNanos) {
        RouteState now;
        Held h = new Held(waiter, loop);
        synchronized (this) {
            now = state;
            if (now instanceof RouteState.Hold) {
                held.add(h);
            }
        }
        if (now instanceof RouteState.Forward f) {
            waiter.proceed(f);
        } else if (now instanceof RouteState.Refuse) {
            waiter.refuse(now);
        } else if (deadlineNanos != Long.MAX_VALUE) {
            long wait = Math.max(0, deadlineNanos - System.nanoTime());
            loop.schedule(() -> giveUp(h), wait, TimeUnit.NANOSECONDS);
        }
    }

    private void giveUp(Held h) {
        RouteState why;
        synchronized (this) {
            if (!held.remove(h)) {
                return;
            }
            why = state;
        }
        h.waiter().refuse(why);
    }

    /**
     * The group a pair connected to {@code target} joins, or null when the route has moved on meanwhile (the
     * pair must then be dropped and the connection routed again).
     */
    synchronized ChannelGroup pairsIfCurrent(RouteState.Forward target) {
        return target.equals(state) ? pairs : null;
    }

    java.net.InetSocketAddress address(RouteState.Forward target) {
        java.util.Map.Entry<RouteState.Forward, java.net.InetSocketAddress> r = resolved;
        if (r != null && r.getKey().equals(target)) {
            return r.getValue();
        }
        java.net.InetSocketAddress a = new java.net.InetSocketAddress(target.host(), target.port());
        resolved = java.util.Map.entry(target, a);
        return a;
    }

    /** Whether a connection routed now would wait. */
    synchronized boolean holding() {
        return state instanceof RouteState.Hold;
    }

    /** Forgets a waiting connection that went away. */
    synchronized void cancel(Waiter waiter, EventLoop loop) {
        held.remove(new Held(waiter, loop));
        connecting.remove(new Held(waiter, loop));
    }

    /** Marks a connection as connecting to the current target (or done with that). */
    synchronized void connecting(Waiter waiter, EventLoop loop, boolean on) {
        if (on) {
            connecting.add(new Held(waiter, loop));
        } else {
            connecting.remove(new Held(waiter, loop));
        }
    }

    private static ChannelGroup newGroup() {
        // stayClosed: a pair that joins after the group was closed is closed at once, so none can slip through.
        return new DefaultChannelGroup("leader-pairs", GlobalEventExecutor.INSTANCE, true);
    }

    static String describe(RouteState s) {
        if (s instanceof RouteState.Forward f) {
            return "forwarding to the primary " + f;
        }
        return s instanceof RouteState.Hold h ? "holding new connections (" + h.why() + ")"
                : "refusing connections (" + ((RouteState.Refuse) s).why() + ")";
    }

    void closeAll() {
        ChannelGroup g;
        synchronized (this) {
            g = pairs;
        }
        g.close();
    }
}
