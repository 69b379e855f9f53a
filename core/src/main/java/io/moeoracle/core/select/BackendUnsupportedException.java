package io.moeoracle.core.select;

import io.moeoracle.core.MoeOracleException;

/** An explicitly requested backend cannot run the layer on the device; carries its reason and remedy. */
public final class BackendUnsupportedException extends MoeOracleException {
    private final String backendId;
    private final String reason;
    private final String remedy;
    private final transient Explanation explanation;

    /**
     * @param backendId the requested backend
     * @param source who asked (spec, property, environment)
     * @param reason why it cannot run the layer
     * @param remedy what to do about it (may be empty)
     * @param explanation the verdict as an explanation
     */
    public BackendUnsupportedException(String backendId, String source, String reason, String remedy,
                                       Explanation explanation) {
        super("backend '" + backendId + "' (requested by " + source + ") cannot run "
                + explanation.spec().describe() + " on " + explanation.device().describe() + ": " + reason + ". "
                + (remedy.isBlank() ? "" : "To fix: " + remedy + ". ")
                + "Or remove the request (" + source + ") to let moe-oracle choose a backend that can.");
        this.backendId = backendId;
        this.reason = reason;
        this.remedy = remedy;
        this.explanation = explanation;
    }

    /** @return the requested backend */
    public String backendId() {
        return backendId;
    }

    /** @return why it cannot run the layer */
    public String reason() {
        return reason;
    }

    /** @return what to do about it; empty when the backend gave none */
    public String remedy() {
        return remedy;
    }

    /** @return the verdict as an explanation */
    public Explanation explanation() {
        return explanation;
    }
}
