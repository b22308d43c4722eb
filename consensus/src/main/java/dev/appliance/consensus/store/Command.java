package dev.appliance.consensus.store;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import dev.appliance.consensus.state.MemberId;
import java.util.List;
import java.util.Objects;

/** One change to the agreed store, as it travels through the Raft log. */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "op")
@JsonSubTypes({
    @JsonSubTypes.Type(value = Command.Put.class, name = "put"),
    @JsonSubTypes.Type(value = Command.Renew.class, name = "renew"),
    @JsonSubTypes.Type(value = Command.Resign.class, name = "resign"),
    @JsonSubTypes.Type(value = Command.Expire.class, name = "expire"),
    @JsonSubTypes.Type(value = Command.Grace.class, name = "grace")
})
public sealed interface Command {

    /**
     * Compare-and-set of one document. {@code expectedVersion} 0 means "must not exist", -1 "whatever it is";
     * a null {@code value} deletes. It applies only if every member in {@code requireNoSession} holds no live
     * session at that moment. {@code writer} and {@code reason} go to the audit log.
     */
    record Put(String key, long expectedVersion, String value, List<MemberId> requireNoSession, String writer,
            String reason) implements Command {
        public Put {
            Objects.requireNonNull(key, "key");
            requireNoSession = requireNoSession == null ? List.of() : List.copyOf(requireNoSession);
            writer = writer == null ? "" : writer;
            reason = reason == null ? "" : reason;
        }
    }

    /** Opens or renews the member's session, with what it publishes (opaque to the store). */
    record Renew(MemberId member, String payload) implements Command {
        public Renew {
            Objects.requireNonNull(member, "member");
            payload = payload == null ? "" : payload;
        }
    }

    /** The member gives up its session at once. */
    record Resign(MemberId member) implements Command {
        public Resign {
            Objects.requireNonNull(member, "member");
        }
    }

    /**
     * The leader expires a session that was not renewed within ttl; it applies only if the session was not
     * renewed since the leader looked ({@code renewedIndex} still matches).
     */
    record Expire(MemberId member, long renewedIndex) implements Command {
        public Expire {
            Objects.requireNonNull(member, "member");
        }
    }

    /** A new leader gives every live session a full ttl, measured from this entry's time on its own clock. */
    record Grace() implements Command {
    }
}
