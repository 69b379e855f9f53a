package io.moeoracle.core.weights;

import io.moeoracle.core.MoeOracleException;

/**
 * A model's {@code config.json} cannot be turned into a layer spec: the message quotes the
 * offending field and its value, and says what was expected.
 */
public final class ModelConfigException extends MoeOracleException {
    private final String field;

    /**
     * @param field the offending field (dotted path, e.g. {@code quantization_config.quant_method})
     * @param message the full message
     */
    public ModelConfigException(String field, String message) {
        super(message);
        this.field = field;
    }

    /**
     * @param field the offending field
     * @param message the full message
     * @param cause the underlying error
     */
    public ModelConfigException(String field, String message, Throwable cause) {
        super(message, cause);
        this.field = field;
    }

    /** @return the offending field's dotted path */
    public String field() {
        return field;
    }
}
