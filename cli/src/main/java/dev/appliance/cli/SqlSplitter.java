package dev.appliance.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * Finds where SQL statements end in console input: at a semicolon outside quotes ('', ""), dollar quotes ($tag$)
 * and comments (--, block comments), as psql does.
 */
final class SqlSplitter {

    /** Removes every complete statement from the front of {@code input} and returns them, in order. */
    List<String> complete(StringBuilder input) {
        List<String> out = new ArrayList<>();
        int start = 0;
        int i = 0;
        int n = input.length();
        while (i < n) {
            char c = input.charAt(i);
            if (c == '\'' || c == '"') {
                int end = closing(input, i + 1, c);
                if (end < 0) {
                    break;
                }
                i = end + 1;
            } else if (c == '-' && i + 1 < n && input.charAt(i + 1) == '-') {
                int end = input.indexOf("\n", i);
                if (end < 0) {
                    break;
                }
                i = end + 1;
            } else if (c == '/' && i + 1 < n && input.charAt(i + 1) == '*') {
                int end = input.indexOf("*/", i + 2);
                if (end < 0) {
                    break;
                }
                i = end + 2;
            } else if (c == '$') {
                int tagEnd = dollarTagEnd(input, i);
                if (tagEnd < 0) {
                    i++;
                    continue;
                }
                String tag = input.substring(i, tagEnd + 1);
                int end = input.indexOf(tag, tagEnd + 1);
                if (end < 0) {
                    break;
                }
                i = end + tag.length();
            } else if (c == ';') {
                String sql = input.substring(start, i).strip();
                if (!sql.isEmpty()) {
                    out.add(sql);
                }
                start = i + 1;
                i++;
            } else {
                i++;
            }
        }
        input.delete(0, start);
        if (input.toString().isBlank()) {
            input.setLength(0);
        }
        return out;
    }

    private static int closing(CharSequence s, int from, char quote) {
        for (int i = from; i < s.length(); i++) {
            if (s.charAt(i) == quote) {
                if (i + 1 < s.length() && s.charAt(i + 1) == quote) {
                    i++;    // a doubled quote stands for itself
                    continue;
                }
                return i;
            }
        }
        return -1;
    }

    /** The index of the '$' closing a dollar-quote tag that opens at {@code at}, or -1 when none opens there. */
    private static int dollarTagEnd(CharSequence s, int at) {
        if (at > 0 && (Character.isLetterOrDigit(s.charAt(at - 1)) || s.charAt(at - 1) == '_')) {
            return -1;    // part of an identifier, or a parameter like $1
        }
        for (int i = at + 1; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '$') {
                return i;
            }
            if (!(Character.isLetter(c) || c == '_' || (i > at + 1 && Character.isDigit(c)))) {
                return -1;
            }
        }
        return -1;
    }
}
