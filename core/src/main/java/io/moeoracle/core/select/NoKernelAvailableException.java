package io.moeoracle.core.select;

import io.moeoracle.core.MoeOracleException;
import java.util.stream.Collectors;

/** No provider supports the layer on the device; carries the whole {@link Explanation}. */
public final class NoKernelAvailableException extends MoeOracleException {
    private final transient Explanation explanation;

    /**
     * @param explanation every verdict
     */
    public NoKernelAvailableException(Explanation explanation) {
        super(message(explanation));
        this.explanation = explanation;
    }

    private static String message(Explanation e) {
        String what = e.spec().describe() + " on " + e.device().describe();
        if (e.noBackends()) {
            String failed = e.rows().isEmpty() ? "" : " (" + e.rows().size() + " failed to load: "
                    + e.rows().stream().map(r -> r.providerId() + ": " + r.reason()).collect(Collectors.joining("; "))
                    + ")";
            String missing = e.notInstalled().isEmpty() ? "" : "; not installed: " + e.notInstalled().stream()
                    .map(r -> r.providerId() + " (" + r.reason() + ")").collect(Collectors.joining("; "));
            return "no kernel backend is available to run " + what + failed + missing + ". To fix: "
                    + Explanation.NO_BACKEND_HINT + ".";
        }
        String verdicts = e.rows().stream()
                .map(r -> r.providerId() + " " + r.status().label() + ": " + r.reason()
                        + (r.remedy().isBlank() ? "" : " (fix: " + r.remedy() + ")"))
                .collect(Collectors.joining("; "));
        String missing = e.notInstalled().isEmpty() ? "" : "; not installed: " + e.notInstalled().stream()
                .map(r -> r.providerId() + " (" + r.reason() + ")").collect(Collectors.joining("; "));
        return "no kernel backend can run " + what + ": " + verdicts + missing + ". To fix: apply one of these remedies, choose"
                + " another device or quantization scheme, or add a backend jar that supports it (see README"
                + " 'Adding a backend'); `moe-oracle explain` prints this as a table.";
    }

    /** @return every verdict */
    public Explanation explanation() {
        return explanation;
    }
}
