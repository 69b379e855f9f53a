package io.moeoracle.api.spec;

/**
 * A layer spec (or one of its parts) broke a rule. The message names the field, the value and
 * the rule, e.g. {@code "hiddenSize 2881 must be a multiple of 32 for MXFP4"}.
 */
public final class InvalidSpecException extends IllegalArgumentException {
    private final String field;

    /**
     * @param field the offending field's name
     * @param message the full message naming field, value and rule
     */
    public InvalidSpecException(String field, String message) {
        super(message);
        this.field = field;
    }

    /** @return the name of the field that broke the rule */
    public String field() {
        return field;
    }
}
