package dev.appliance.resources;

/** Where the current primary's postgres listens, as the agreed state names it. */
public record PrimaryAddress(String member, String host, int port) {
    @Override
    public String toString() {
        return member + " (" + host + ":" + port + ")";
    }
}
