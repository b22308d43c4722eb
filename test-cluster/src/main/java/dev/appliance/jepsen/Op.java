package dev.appliance.jepsen;

import java.util.List;
import java.util.Objects;

/**
 * One line of a history: a client's invocation of an operation or its completion, or a nemesis event. The
 * value's meaning depends on {@code f}: {@code write [v]}, {@code read [v]} or {@code read []} (no value),
 * {@code cas [expected, new]}, {@code append [id]}, {@code read-all [id...]}, {@code transfer [from, to, amount]},
 * {@code balances [b0, b1, ...]}. A nemesis event has process {@link #NEMESIS} and type {@code info}.
 *
 * @param index   position in the history
 * @param process the client (or {@link #NEMESIS}) that did it; a process has at most one operation open
 * @param type    invoke, then ok (it happened), fail (it certainly did not) or info (unknown: it may have)
 * @param f       the operation
 * @param key     the register's key, for register operations
 * @param value   the operation's arguments or result
 * @param time    nanoseconds since the start of the run
 * @param error   why it failed or is unknown; for a nemesis event, what it hit
 */
public record Op(long index, long process, Type type, String f, String key, List<Long> value, long time, String error) {
    public static final long NEMESIS = -1;

    public enum Type { INVOKE, OK, FAIL, INFO }

    public Op {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(f, "f");
        value = value == null ? List.of() : java.util.Collections.unmodifiableList(new java.util.ArrayList<>(value));
    }

    public static Op invoke(long process, String f, String key, List<Long> value, long time) {
        return new Op(-1, process, Type.INVOKE, f, key, value, time, null);
    }

    public Op complete(Type outcome, List<Long> result, long at, String why) {
        return new Op(-1, process, outcome, f, key, result == null ? value : result, at, why);
    }

    Op withIndex(long i) {
        return new Op(i, process, type, f, key, value, time, error);
    }

    public boolean nemesis() {
        return process == NEMESIS;
    }
}
