package dev.appliance.resources;

/** An extension available to a database; {@code installedVersion} is null when it is not installed. */
public record Extension(String name, String defaultVersion, String installedVersion, String comment) {
    public boolean installed() {
        return installedVersion != null;
    }
}
