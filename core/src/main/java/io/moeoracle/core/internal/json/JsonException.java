package io.moeoracle.core.internal.json;

import io.moeoracle.core.MoeOracleException;

/** A JSON syntax error, with the line, column (both from 1) and character offset where it was found. */
public final class JsonException extends MoeOracleException {
    private final int line;
    private final int column;
    private final int offset;

    /**
     * @param what what is wrong
     * @param line line, from 1
     * @param column column, from 1
     * @param offset character offset, from 0
     */
    public JsonException(String what, int line, int column, int offset) {
        super("JSON error at line " + line + ", column " + column + " (offset " + offset + "): " + what);
        this.line = line;
        this.column = column;
        this.offset = offset;
    }

    /** @return the line, from 1 */
    public int line() {
        return line;
    }

    /** @return the column, from 1 */
    public int column() {
        return column;
    }

    /** @return the character offset, from 0 */
    public int offset() {
        return offset;
    }
}
