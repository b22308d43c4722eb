package dev.appliance.postgres;

import dev.appliance.consensus.state.WalPosition;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The timelines a server's WAL went through: each with the position where the next one branched off, the
 * last one open-ended. Two servers' histories agree up to their last common timeline; they fork where the
 * first of them left it.
 *
 * @param timelines the timeline ids, oldest first
 * @param ends      where each timeline ended (the last entry is {@link #OPEN}: still current)
 */
record TimelineHistory(List<Long> timelines, List<WalPosition> ends) {
    private static final Pattern ENTRY = Pattern.compile("^\\s*(\\d+)\\s+([0-9A-Fa-f]+/[0-9A-Fa-f]+)");
    static final WalPosition OPEN = new WalPosition(-1L);

    TimelineHistory {
        timelines = List.copyOf(timelines);
        ends = List.copyOf(ends);
        if (timelines.isEmpty() || timelines.size() != ends.size()) {
            throw new IllegalArgumentException("a timeline history needs one end per timeline");
        }
    }

    /**
     * The history of a server on {@code current}, from the content of its {@code <current>.history} file
     * (null for timeline 1, which has none): lines of "parent-timeline switchpoint reason", comments with #.
     */
    static TimelineHistory parse(long current, String historyFile) {
        List<Long> tlis = new ArrayList<>();
        List<WalPosition> ends = new ArrayList<>();
        if (historyFile != null) {
            for (String line : historyFile.split("\n")) {
                if (line.isBlank() || line.trim().startsWith("#")) {
                    continue;
                }
                Matcher m = ENTRY.matcher(line);
                if (!m.find()) {
                    throw new IllegalArgumentException("unreadable timeline history line '" + line.trim() + "'");
                }
                long tli = Long.parseLong(m.group(1));
                if (!tlis.isEmpty() && tli <= tlis.get(tlis.size() - 1)) {
                    throw new IllegalArgumentException("timeline history out of order at '" + line.trim() + "'");
                }
                tlis.add(tli);
                ends.add(WalPosition.parse(m.group(2).toUpperCase()));
            }
        }
        if (!tlis.isEmpty() && tlis.get(tlis.size() - 1) >= current) {
            throw new IllegalArgumentException("the history of timeline " + current + " lists timeline "
                    + tlis.get(tlis.size() - 1));
        }
        tlis.add(current);
        ends.add(OPEN);
        return new TimelineHistory(tlis, ends);
    }

    long current() {
        return timelines.get(timelines.size() - 1);
    }

    /**
     * Where this history and {@code other} part: the end of the last timeline they share, as the first of
     * them to leave it left it. Empty when they share no timeline (not the same cluster), or when neither
     * left the shared timeline (both still on it).
     */
    Optional<Fork> forkWith(TimelineHistory other) {
        int common = -1;
        for (int i = 0; i < Math.min(timelines.size(), other.timelines.size()); i++) {
            if (!timelines.get(i).equals(other.timelines.get(i))) {
                break;
            }
            common = i;
        }
        if (common < 0) {
            return Optional.empty();
        }
        WalPosition at = WalPosition.min(ends.get(common), other.ends.get(common));
        return at.equals(OPEN) ? Optional.empty() : Optional.of(new Fork(timelines.get(common), at));
    }

    /**
     * The stretches of this history's WAL past {@code fork}: on the fork's timeline from the fork point, then
     * each later timeline from where it began.
     */
    List<Stretch> after(Fork fork) {
        List<Stretch> out = new ArrayList<>();
        for (int i = 0; i < timelines.size(); i++) {
            long tli = timelines.get(i);
            if (tli == fork.timeline()) {
                out.add(new Stretch(tli, fork.at()));
            } else if (tli > fork.timeline()) {
                out.add(new Stretch(tli, ends.get(i - 1)));
            }
        }
        return out;
    }

    /** Where two histories part: {@code at} on {@code timeline}, the last they share. */
    record Fork(long timeline, WalPosition at) {
    }

    /** WAL on {@code timeline} from {@code from}. */
    record Stretch(long timeline, WalPosition from) {
    }
}
