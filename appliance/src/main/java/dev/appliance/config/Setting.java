package dev.appliance.config;

import java.util.List;

/**
 * One configuration setting: its key in the file, the environment variable that overrides it, its default
 * (null: required), and what it means. {@link Settings#ALL} lists every one; docs/configuration.md is
 * checked against that list.
 */
public record Setting(String key, String defaultValue, String kind, String description) {
    public static final String ENV_PREFIX = "APPLIANCE_";

    /** {@code postgres.port} is overridden by {@code APPLIANCE_POSTGRES_PORT}. */
    public String envName() {
        return envName(key);
    }

    static String envName(String key) {
        return ENV_PREFIX + key.toUpperCase().replace('.', '_').replace('-', '_');
    }

    public boolean required() {
        return defaultValue == null;
    }

    static List<String> keys(List<Setting> settings) {
        return settings.stream().map(Setting::key).toList();
    }
}
