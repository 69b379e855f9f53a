package io.moeoracle.core;

/**
 * The base of every exception core throws on purpose. The message is one paragraph: what failed,
 * with which input, and what to do about it, so that a command-line tool can print it as is.
 */
public class MoeOracleException extends RuntimeException {

    /**
     * @param message the problem and its fix, in one paragraph
     */
    public MoeOracleException(String message) {
        super(message);
    }

    /**
     * @param message the problem and its fix, in one paragraph
     * @param cause what went wrong underneath
     */
    public MoeOracleException(String message, Throwable cause) {
        super(message, cause);
    }
}
