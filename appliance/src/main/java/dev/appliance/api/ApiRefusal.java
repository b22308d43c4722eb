package dev.appliance.api;

/** A request the API refuses, with its status and the field at fault (if one is). */
final class ApiRefusal extends Exception {
    final int status;
    final String field;

    ApiRefusal(int status, String message, String field) {
        super(message);
        this.status = status;
        this.field = field;
    }
}
