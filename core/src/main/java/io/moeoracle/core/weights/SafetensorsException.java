package io.moeoracle.core.weights;

import io.moeoracle.core.MoeOracleException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A safetensors file or checkpoint broke a rule: the message names the file, the tensor (when
 * one is at fault) and the rule, e.g.
 * {@code "model.safetensors: tensor 'a.weight': data_offsets [0, 10) hold 10 bytes but BF16 [3, 2] needs 12"}.
 */
public final class SafetensorsException extends MoeOracleException {
    private final transient Path file;
    private final String tensor;

    /**
     * @param file the file at fault
     * @param tensor the tensor at fault, or null when the whole file is
     * @param rule what is wrong
     */
    public SafetensorsException(Path file, String tensor, String rule) {
        super(message(file, tensor, rule));
        this.file = file;
        this.tensor = tensor;
    }

    /**
     * @param file the file at fault
     * @param tensor the tensor at fault, or null when the whole file is
     * @param rule what is wrong
     * @param cause the underlying error
     */
    public SafetensorsException(Path file, String tensor, String rule, Throwable cause) {
        super(message(file, tensor, rule), cause);
        this.file = file;
        this.tensor = tensor;
    }

    private static String message(Path file, String tensor, String rule) {
        return file + ": " + (tensor == null ? "" : "tensor '" + tensor + "': ") + rule;
    }

    /** @return the file at fault */
    public Path file() {
        return file;
    }

    /** @return the tensor at fault, if one is */
    public Optional<String> tensor() {
        return Optional.ofNullable(tensor);
    }
}
