package dev.appliance.consensus.state;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.regex.Pattern;

/**
 * The persistent identity of a cluster member. It is chosen once (config or data dir) and never derived
 * from an address, so a member keeps its identity when its address changes (unlike Flynn's address hash).
 * It doubles as the PostgreSQL {@code application_name} of a standby, hence the conservative alphabet.
 */
public record MemberId(String value) implements Comparable<MemberId> {
    private static final Pattern VALID = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");

    public MemberId {
        if (value == null || !VALID.matcher(value).matches()) {
            throw new IllegalArgumentException("invalid member id '" + value
                    + "': use 1-63 characters of a-z, 0-9, '-' or '_', starting with a letter or digit");
        }
    }

    /** Whether {@code value} is a valid member id. */
    public static boolean isValid(String value) {
        return value != null && VALID.matcher(value).matches();
    }

    @JsonCreator
    public static MemberId of(String value) {
        return new MemberId(value);
    }

    @JsonValue
    @Override
    public String value() {
        return value;
    }

    @Override
    public int compareTo(MemberId other) {
        return value.compareTo(other.value);
    }

    @Override
    public String toString() {
        return value;
    }
}
