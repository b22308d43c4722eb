package dev.appliance.consensus.state;

import com.fasterxml.jackson.annotation.JsonAutoDetect.Visibility;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.PropertyAccessor;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.util.stream.Collectors;

/**
 * Reads and writes one kind of agreed document as JSON with a stable schema:
 * {@code {"kind": "...", "schema": 1, ...every field of the record...}}. Every field is always written
 * (null where absent), and reading is strict: a wrong kind or schema, an unknown or missing field, a value
 * of the wrong type or a state that breaks the record's own rules is rejected as a whole.
 */
public final class DocumentCodec<T> {
    public static final int SCHEMA = 1;

    public static final DocumentCodec<ClusterState> CLUSTER_STATE = new DocumentCodec<>("cluster-state", ClusterState.class);
    public static final DocumentCodec<Member> MEMBER = new DocumentCodec<>("member", Member.class);
    public static final DocumentCodec<Route> ROUTE = new DocumentCodec<>("route", Route.class);

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .addModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            // Only record components are the schema; helper methods such as isFrozen() are not fields.
            .visibility(PropertyAccessor.GETTER, Visibility.NONE)
            .visibility(PropertyAccessor.IS_GETTER, Visibility.NONE)
            .visibility(PropertyAccessor.FIELD, Visibility.ANY)
            .serializationInclusion(JsonInclude.Include.ALWAYS)
            .build();

    private final String kind;
    private final Class<T> type;

    public DocumentCodec(String kind, Class<T> type) {
        this.kind = kind;
        this.type = type;
    }

    public String kind() {
        return kind;
    }

    public byte[] encode(T value) {
        ObjectNode out = MAPPER.createObjectNode();
        out.put("kind", kind);
        out.put("schema", SCHEMA);
        out.setAll((ObjectNode) MAPPER.valueToTree(value));
        try {
            return MAPPER.writeValueAsBytes(out);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode " + kind + ": " + e.getOriginalMessage(), e);
        }
    }

    public String encodeToString(T value) {
        return new String(encode(value), java.nio.charset.StandardCharsets.UTF_8);
    }

    public T decode(byte[] json) throws InvalidDocumentException {
        JsonNode tree;
        try {
            tree = MAPPER.readTree(json);
        } catch (IOException e) {
            throw invalid("it is not valid JSON (" + originalMessage(e) + ")", e);
        }
        if (tree == null || !tree.isObject()) {
            throw invalid("expected a JSON object", null);
        }
        ObjectNode fields = ((ObjectNode) tree).deepCopy();
        JsonNode kindNode = fields.remove("kind");
        if (kindNode == null || !kindNode.isTextual()) {
            throw invalid("field 'kind' is missing", null);
        }
        if (!kind.equals(kindNode.asText())) {
            throw invalid("it is a '" + kindNode.asText() + "' document", null);
        }
        JsonNode schemaNode = fields.remove("schema");
        if (schemaNode == null || !schemaNode.isInt()) {
            throw invalid("field 'schema' is missing or not an integer", null);
        }
        if (schemaNode.asInt() != SCHEMA) {
            throw invalid("schema " + schemaNode.asInt() + " is not supported (this version reads schema " + SCHEMA
                    + "); upgrade this node to the version that wrote it", null);
        }
        try {
            return MAPPER.treeToValue(fields, type);
        } catch (JsonMappingException e) {
            throw invalid(describe(e), e);
        } catch (IOException | IllegalArgumentException e) {
            throw invalid(originalMessage(e), e);
        }
    }

    public T decode(String json) throws InvalidDocumentException {
        return decode(json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private InvalidDocumentException invalid(String why, Throwable cause) {
        return new InvalidDocumentException("invalid " + kind + " document: " + why, cause);
    }

    private static String describe(JsonMappingException e) {
        String path = e.getPath().stream()
                .map(ref -> ref.getFieldName() != null ? ref.getFieldName() : "[" + ref.getIndex() + "]")
                .collect(Collectors.joining("."))
                .replace(".[", "[");
        if (e instanceof UnrecognizedPropertyException) {
            return "field '" + path + "' is not part of schema " + SCHEMA;
        }
        if (e instanceof MismatchedInputException mismatch && !(e instanceof ValueInstantiationException)) {
            if (mismatch.getOriginalMessage().startsWith("Missing creator property")) {
                return "field '" + path + "' is missing";
            }
            Class<?> target = mismatch.getTargetType();
            String expected = target == null ? "another type" : friendlyType(target);
            return "field '" + path + "': expected " + expected;
        }
        String message = rootMessage(e);
        return path.isEmpty() ? message : "field '" + path + "': " + message;
    }

    private static String friendlyType(Class<?> type) {
        if (type == long.class || type == int.class || type == Long.class || type == Integer.class) {
            return "an integer";
        }
        if (type == boolean.class || type == Boolean.class) {
            return "true or false";
        }
        if (type == String.class || type == MemberId.class || type == WalPosition.class) {
            return "a string";
        }
        if (java.util.Collection.class.isAssignableFrom(type)) {
            return "a list";
        }
        return "an object (" + type.getSimpleName() + ")";
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root instanceof IllegalArgumentException || root instanceof NullPointerException) {
            return root.getMessage();
        }
        return originalMessage(e);
    }

    private static String originalMessage(Throwable e) {
        if (e instanceof JsonProcessingException jpe) {
            String m = jpe.getOriginalMessage();
            int nl = m.indexOf('\n');
            return nl >= 0 ? m.substring(0, nl) : m;
        }
        return e.getMessage();
    }
}
