package dev.appliance.sim;

import dev.appliance.consensus.state.WalPosition;

/**
 * One WAL record in the simulated history. Histories form a tree: a record is appended to one node's WAL
 * and copied to others only by streaming a prefix, so "node A's WAL is a prefix of node B's" is "A's tip
 * is an ancestor of B's tip". Records carry jump pointers (Myers' skew-binary scheme), so that ancestor
 * test takes O(log depth) steps however long the history grows.
 */
final class WalRecord {
    enum Kind { INIT, COMMIT, PROMOTE, SHUTDOWN }

    static final long BYTES_PER_RECORD = 128;

    final long id;
    final int depth;
    final WalRecord parent;
    final WalRecord jump;
    final Kind kind;
    final long timeline;
    final String origin;

    private WalRecord(long id, WalRecord parent, Kind kind, long timeline, String origin) {
        this.id = id;
        this.parent = parent;
        this.depth = parent == null ? 0 : parent.depth + 1;
        this.kind = kind;
        this.timeline = timeline;
        this.origin = origin;
        if (parent == null) {
            this.jump = this;
        } else if (parent.depth - parent.jump.depth == parent.jump.depth - parent.jump.jump.depth) {
            this.jump = parent.jump.jump;
        } else {
            this.jump = parent;
        }
    }

    static WalRecord init(long id, String origin) {
        return new WalRecord(id, null, Kind.INIT, 1, origin);
    }

    WalRecord append(long id, Kind kind, long timeline, String origin) {
        return new WalRecord(id, this, kind, timeline, origin);
    }

    WalPosition position() {
        return WalPosition.of((depth + 1) * BYTES_PER_RECORD);
    }

    WalRecord ancestorAt(int targetDepth) {
        if (targetDepth > depth || targetDepth < 0) {
            return null;
        }
        WalRecord r = this;
        while (r.depth > targetDepth) {
            r = r.jump.depth >= targetDepth ? r.jump : r.parent;
        }
        return r;
    }

    /** True when this record is {@code other} or lies in its history. */
    boolean isAncestorOf(WalRecord other) {
        return other != null && other.ancestorAt(depth) == this;
    }

    /** The last record two histories share (null when they share none). */
    static WalRecord commonAncestor(WalRecord a, WalRecord b) {
        if (a == null || b == null) {
            return null;
        }
        int d = Math.min(a.depth, b.depth);
        WalRecord x = a.ancestorAt(d);
        WalRecord y = b.ancestorAt(d);
        if (x == y) {
            return x;
        }
        int lo = 0;
        int hi = d;
        if (a.ancestorAt(0) != b.ancestorAt(0)) {
            return null;
        }
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (a.ancestorAt(mid) == b.ancestorAt(mid)) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return a.ancestorAt(lo);
    }

    @Override
    public String toString() {
        return kind.name().toLowerCase() + "#" + id + "@" + position() + "/tl" + timeline;
    }
}
