package io.moeoracle.core.discovery;

import io.moeoracle.core.MoeOracleException;

/** Two providers claim the same id; the message names the id and both sources. */
public final class DuplicateProviderException extends MoeOracleException {
    private final String id;

    /**
     * @param id the contested id
     * @param first the first provider's class and source
     * @param second the second provider's class and source
     */
    public DuplicateProviderException(String id, String first, String second) {
        super("two kernel backends claim the id '" + id + "': " + first + " and " + second
                + ". Keep only one of them: remove one jar from the class path or module path (or stop binding"
                + " one of them), or give one backend a different id.");
        this.id = id;
    }

    /** @return the contested id */
    public String id() {
        return id;
    }
}
