package io.moeoracle.core.select;

import io.moeoracle.core.MoeOracleException;
import io.moeoracle.core.discovery.UnavailableProvider;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/** An explicitly requested backend id matches no provider; the message lists the known ids. */
public final class UnknownBackendException extends MoeOracleException {
    private final String requested;
    private final Set<String> known;

    /**
     * @param requested the id asked for
     * @param source who asked (spec, property, environment)
     * @param known the ids of the available providers
     * @param unavailable the providers that failed to load
     */
    public UnknownBackendException(String requested, String source, Set<String> known,
                                   List<UnavailableProvider> unavailable) {
        super(message(requested, source, known, unavailable));
        this.requested = requested;
        this.known = Set.copyOf(known);
    }

    private static String message(String requested, String source, Set<String> known, List<UnavailableProvider> un) {
        StringBuilder sb = new StringBuilder("unknown kernel backend '").append(requested).append("' (requested by ")
                .append(source).append("); ");
        if (known.isEmpty()) {
            sb.append("no backend is installed");
        } else {
            sb.append("the known backends are ").append(String.join(", ", known));
        }
        if (!un.isEmpty()) {
            sb.append("; these failed to load: ").append(un.stream()
                    .map(u -> u.name() + " from " + u.source() + " (" + u.reason() + ")")
                    .collect(Collectors.joining("; ")));
        }
        java.util.Optional<OfficialBackends.Entry> official = OfficialBackends.all().stream()
                .filter(o -> o.id().equalsIgnoreCase(requested.trim())).findFirst();
        if (official.isPresent()) {
            OfficialBackends.Entry o = official.get();
            sb.append(". '").append(o.id()).append("' is an official backend that is not installed: add ")
                    .append(o.coordinates()).append(o.released() ? "" : " (planned, not released yet)")
                    .append(" to the class path or the plugins folder, request one of the known ids, or remove the"
                            + " request to let moe-oracle choose.");
            return sb.toString();
        }
        sb.append(". Request one of the known ids, put the jar that provides '").append(requested)
                .append("' on the class path or in the plugins folder, or remove the request to let moe-oracle choose.");
        return sb.toString();
    }

    /** @return the id that was asked for */
    public String requested() {
        return requested;
    }

    /** @return the ids that exist */
    public Set<String> known() {
        return known;
    }
}
