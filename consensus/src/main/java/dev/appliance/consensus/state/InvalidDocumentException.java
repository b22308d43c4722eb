package dev.appliance.consensus.state;

/** A stored or received document that cannot be read as what it claims to be. Nothing of it is used. */
public final class InvalidDocumentException extends Exception {
    public InvalidDocumentException(String message) {
        super(message);
    }

    public InvalidDocumentException(String message, Throwable cause) {
        super(message, cause);
    }
}
