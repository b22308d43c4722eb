package dev.appliance.node;

/**
 * The daemon's log format (slf4j-simple): to stdout, with UTC timestamps and the thread, quiet libraries.
 * Set before the first logger is created; an operator's -D settings win.
 */
final class Logging {
    private Logging() {
    }

    static void daemon() {
        set("org.slf4j.simpleLogger.logFile", "System.out");
        set("org.slf4j.simpleLogger.showDateTime", "true");
        set("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSX");
        set("org.slf4j.simpleLogger.showShortLogName", "true");
        set("org.slf4j.simpleLogger.defaultLogLevel", "info");
        set("org.slf4j.simpleLogger.log.org.apache.ratis", "warn");
        set("org.slf4j.simpleLogger.log.io.grpc", "warn");
        set("org.slf4j.simpleLogger.log.org.apache.ratis.thirdparty", "warn");
    }

    private static void set(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }
}
