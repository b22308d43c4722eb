package dev.appliance.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

/** Talks to the daemons' HTTP API, trying each given address in turn until one answers. */
public final class ApiClient {
    public static final ObjectMapper JSON = new ObjectMapper();

    /** An answer: its HTTP status and JSON body. */
    public record Answer(int status, JsonNode body, String from) {
        public boolean ok() {
            return status / 100 == 2;
        }

        public String error() {
            return body.path("error").asText("HTTP " + status);
        }
    }

    private final List<String> urls;
    private final String token;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

    public ApiClient(List<String> urls, String token) {
        if (urls.isEmpty()) {
            throw new IllegalArgumentException("no API address: give --url, set APPLIANCE_URL, or point --dir at a "
                    + "cluster made by 'appliance cluster up'");
        }
        this.urls = List.copyOf(urls);
        this.token = token;
    }

    public Answer get(String path) throws IOException {
        return send("GET", path, null);
    }

    public Answer post(String path, JsonNode body) throws IOException {
        return send("POST", path, body == null ? JSON.createObjectNode() : body);
    }

    public Answer delete(String path) throws IOException {
        return send("DELETE", path, null);
    }

    private Answer send(String method, String path, JsonNode body) throws IOException {
        IOException last = null;
        for (String url : urls) {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url + path)).timeout(Duration.ofSeconds(20));
            if (token != null && !token.isBlank()) {
                b.header("Authorization", "Bearer " + token);
            }
            if (body != null) {
                b.header("Content-Type", "application/json")
                        .method(method, HttpRequest.BodyPublishers.ofString(body.toString()));
            } else {
                b.method(method, HttpRequest.BodyPublishers.noBody());
            }
            try {
                HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
                JsonNode json = r.body().isBlank() ? JSON.createObjectNode() : JSON.readTree(r.body());
                return new Answer(r.statusCode(), json, url);
            } catch (IOException e) {
                last = new IOException(url + ": " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()),
                        e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }
        throw new IOException("no daemon answered (" + (last == null ? "" : last.getMessage()) + ")"
                + (urls.size() > 1 ? "; tried " + urls : ""));
    }
}
