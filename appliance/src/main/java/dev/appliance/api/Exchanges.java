package dev.appliance.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/** Reading requests and writing answers, shared by the API's handlers. */
final class Exchanges {
    static final int MAX_BODY = 64 * 1024;

    private Exchanges() {
    }

    static void requireMethod(String method, String... allowed) throws ApiRefusal {
        for (String a : allowed) {
            if (a.equals(method)) {
                return;
            }
        }
        throw new ApiRefusal(405, "use " + String.join(" or ", allowed), null);
    }

    static JsonNode body(HttpExchange ex) throws IOException, ApiRefusal {
        byte[] bytes;
        try (InputStream in = ex.getRequestBody()) {
            bytes = in.readNBytes(MAX_BODY + 1);
        }
        if (bytes.length > MAX_BODY) {
            throw new ApiRefusal(413, "the body exceeds " + MAX_BODY + " bytes", null);
        }
        if (bytes.length == 0) {
            return ClusterJson.JSON.createObjectNode();
        }
        JsonNode n;
        try {
            n = ClusterJson.JSON.readTree(bytes);
        } catch (IOException e) {
            throw new ApiRefusal(400, "the body is not JSON: " + (e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage()), null);
        }
        if (n == null || !n.isObject()) {
            throw new ApiRefusal(400, "the body must be a JSON object", null);
        }
        return n;
    }

    static String who(HttpExchange ex) {
        return "api from " + ex.getRemoteAddress().getAddress().getHostAddress();
    }

    static Optional<String> queryParam(URI uri, String name) {
        String q = uri.getRawQuery();
        if (q == null) {
            return Optional.empty();
        }
        for (String part : q.split("&")) {
            int eq = part.indexOf('=');
            String k = eq < 0 ? part : part.substring(0, eq);
            if (k.equals(name)) {
                return Optional.of(java.net.URLDecoder.decode(eq < 0 ? "" : part.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return Optional.empty();
    }

    static void sendJson(HttpExchange ex, int status, JsonNode body) throws IOException {
        send(ex, status, "application/json", ClusterJson.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(body) + "\n");
    }

    static void send(HttpExchange ex, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        boolean head = "HEAD".equals(ex.getRequestMethod());
        ex.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
        }
    }
}
