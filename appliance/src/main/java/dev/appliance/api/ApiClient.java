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

    /** A client of other addresses with the same token. */
    public ApiClient at(List<String> otherUrls) {
        return new ApiClient(otherUrls, token);
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

    /**
     * Streams the answer of {@code GET path} into {@code out}, reporting bytes as they arrive. Returns the bytes
     * written; a non-2xx answer is returned as an {@link Answer} through the exception.
     *
     * @throws Refused the daemon answered with an error
     * @throws IOException no daemon answered, or the stream was cut short (the output is then incomplete)
     */
    public long download(String path, java.io.OutputStream out, java.util.function.LongConsumer progress) throws IOException {
        HttpResponse<java.io.InputStream> r = exchange("GET", path, HttpRequest.BodyPublishers.noBody(), null,
                HttpResponse.BodyHandlers.ofInputStream(), null, false);
        try (java.io.InputStream in = r.body()) {
            if (r.statusCode() / 100 != 2) {
                throw new Refused(answer(r.statusCode(), in.readAllBytes(), daemonOf(r)));
            }
            long total = 0;
            byte[] buf = new byte[64 * 1024];
            for (int n; (n = in.read(buf)) > 0; ) {
                out.write(buf, 0, n);
                total += n;
                progress.accept(total);
            }
            return total;
        } catch (IOException e) {
            if (e instanceof Refused) {
                throw e;
            }
            throw new IOException("the stream from " + r.uri().getHost() + " was cut short: " + e.getMessage(), e);
        }
    }

    /** Sends {@code file} as the body of {@code POST path}, reporting bytes as they go, and returns the answer. */
    public Answer upload(String path, java.nio.file.Path file, java.util.function.LongConsumer progress) throws IOException {
        long size = java.nio.file.Files.size(file);
        HttpResponse<byte[]> r = exchange("POST", path, HttpRequest.BodyPublishers.fromPublisher(
                HttpRequest.BodyPublishers.ofInputStream(() -> {
                    try {
                        return new Counting(java.nio.file.Files.newInputStream(file), progress);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }), size), "application/octet-stream", HttpResponse.BodyHandlers.ofByteArray(), null, false);
        return answer(r.statusCode(), r.body(), daemonOf(r));
    }

    /** An error answer to a streaming request. */
    public static final class Refused extends IOException {
        private final Answer answer;

        Refused(Answer answer) {
            super(answer.from() + " answered: " + answer.error());
            this.answer = answer;
        }

        public Answer answer() {
            return answer;
        }
    }

    /** The address of the daemon that answered, as given in the client's list. */
    private static String daemonOf(HttpResponse<?> r) {
        return r.uri().getScheme() + "://" + r.uri().getRawAuthority();
    }

    private static Answer answer(int status, byte[] body, String from) {
        JsonNode json;
        try {
            json = body.length == 0 ? JSON.createObjectNode() : JSON.readTree(body);
        } catch (IOException notJson) {
            json = JSON.createObjectNode().put("error", "HTTP " + status + ": " + new String(body,
                    java.nio.charset.StandardCharsets.UTF_8).strip());
        }
        return new Answer(status, json, from);
    }

    /** A long exchange (no overall time limit), with the first daemon that takes the connection. */
    /**
     * Sends one request to the first daemon that takes it. A daemon that refuses the connection is skipped for the
     * next; with {@code retryAnyFailure} (short requests that may be repeated) so is one that fails in any other way.
     */
    private <T> HttpResponse<T> exchange(String method, String path, HttpRequest.BodyPublisher body, String type,
            HttpResponse.BodyHandler<T> handler, Duration timeout, boolean retryAnyFailure) throws IOException {
        IOException last = null;
        for (String url : urls) {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url + path)).method(method, body);
            if (timeout != null) {
                b.timeout(timeout);
            }
            if (token != null && !token.isBlank()) {
                b.header("Authorization", "Bearer " + token);
            }
            if (type != null) {
                b.header("Content-Type", type);
            }
            try {
                return http.send(b.build(), handler);
            } catch (IOException e) {
                if (!retryAnyFailure && !(e instanceof java.net.ConnectException)) {
                    throw e;
                }
                last = new IOException(url + ": " + (e.getMessage() != null ? e.getMessage()
                        : e instanceof java.net.ConnectException ? "connection refused" : e.getClass().getSimpleName()), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }
        throw noAnswer(last);
    }

    private IOException noAnswer(IOException last) {
        return new IOException("no daemon answered (" + (last == null ? "" : last.getMessage()) + ")"
                + (urls.size() > 1 ? "; tried " + urls : "") + ". Is the cluster running? The address comes from --url, "
                + "$APPLIANCE_URL, or the cluster made by 'appliance cluster up' in --dir", last);
    }

    /** Counts the bytes read from a stream. */
    private static final class Counting extends java.io.FilterInputStream {
        private final java.util.function.LongConsumer progress;
        private long count;

        Counting(java.io.InputStream in, java.util.function.LongConsumer progress) {
            super(in);
            this.progress = progress;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                progress.accept(++count);
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                count += n;
                progress.accept(count);
            }
            return n;
        }
    }

    private Answer send(String method, String path, JsonNode body) throws IOException {
        HttpResponse<byte[]> r = exchange(method, path, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body.toString()), body == null ? null : "application/json",
                HttpResponse.BodyHandlers.ofByteArray(), Duration.ofSeconds(20), true);
        return answer(r.statusCode(), r.body(), daemonOf(r));
    }
}
