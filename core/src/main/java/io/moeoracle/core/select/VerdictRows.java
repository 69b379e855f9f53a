package io.moeoracle.core.select;

import io.moeoracle.api.HostAvailability;
import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.device.Vendor;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.core.discovery.ProviderRegistry;
import io.moeoracle.core.discovery.RegisteredProvider;
import io.moeoracle.core.discovery.UnavailableProvider;
import io.moeoracle.core.internal.ServiceScan;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/** The rows of an {@link Explanation}: one provider's verdict, or why it was not asked, or not installed. */
final class VerdictRows {
    private VerdictRows() {
    }

    /**
     * Asks a provider for its values for this decision, each once.
     *
     * @param rp the provider
     * @param spec the layer
     * @param device the device
     * @param errorRank the rank its error row gets
     * @param errors where its error row goes when one of the calls throws
     * @return the candidate, or empty when a call threw
     */
    static Optional<Candidate> candidate(RegisteredProvider rp, MoeLayerSpec spec, DeviceInfo device, int errorRank,
                                         List<Explanation.Row> errors) {
        MoeKernelProvider p = rp.provider();
        OptionalInt priority = OptionalInt.empty();
        Optional<ActivationType> act = Optional.empty();
        String call = "priority()";
        try {
            priority = OptionalInt.of(p.priority(spec, device));
            call = "activationType()";
            act = Optional.ofNullable(p.activationType(spec, device));
            call = "runsOnHost()";
            return Optional.of(new Candidate(rp.id(), priority.getAsInt(), act, p.runsOnHost(), rp.source()));
        } catch (RuntimeException | LinkageError e) {
            errors.add(errorRow(errorRank, rp, priority, act, call + " threw " + ServiceScan.describe(e), host(p)));
            return Optional.empty();
        }
    }

    static Explanation.Row judge(int rank, RegisteredProvider rp, Candidate c, MoeLayerSpec spec, DeviceInfo device,
                                 boolean alreadyChosen) {
        MoeKernelProvider p = rp.provider();
        HostAvailability host = host(p);
        OptionalInt priority = OptionalInt.of(c.priority());
        Optional<ActivationType> act = c.activationType();
        SupportVerdict verdict;
        try {
            verdict = p.isSupported(spec, device);
        } catch (RuntimeException | LinkageError e) {
            return errorRow(rank, rp, priority, act, "isSupported() threw " + ServiceScan.describe(e), host);
        }
        if (verdict == null) {
            return errorRow(rank, rp, priority, act, "isSupported() returned null", host);
        }
        // instanceof rather than a pattern switch, whose first use bootstraps SwitchBootstraps (a cold JVM's first
        // select); the verdict is sealed: Supported or Unsupported
        if (verdict instanceof SupportVerdict.Supported s) {
            return new Explanation.Row(rank, rp.id(), priority, act,
                    alreadyChosen ? Explanation.Status.SUPPORTED_NOT_CHOSEN : Explanation.Status.CHOSEN,
                    s.note(), "", host, rp.source());
        }
        SupportVerdict.Unsupported u = (SupportVerdict.Unsupported) verdict;
        return new Explanation.Row(rank, rp.id(), priority, act, Explanation.Status.UNSUPPORTED, u.reason(),
                u.remedy(), host, rp.source());
    }

    static Explanation.Row errorRow(int rank, RegisteredProvider rp, OptionalInt priority,
                                            Optional<ActivationType> act, String what, HostAvailability host) {
        return new Explanation.Row(rank, rp.id(), priority, act, Explanation.Status.ERROR, "error: " + what,
                "report this to the backend's authors; meanwhile skip it with -D" + SelectionSettings.EXCLUDE.name()
                        + "=" + rp.id(), host, rp.source());
    }

    static HostAvailability host(MoeKernelProvider p) {
        try {
            HostAvailability h = p.hostAvailability();
            return h == null ? HostAvailability.no("hostAvailability() returned null") : h;
        } catch (RuntimeException | LinkageError e) {
            return HostAvailability.no("hostAvailability() threw " + ServiceScan.describe(e));
        }
    }

    static Explanation.Row excludedRow(RegisteredProvider rp) {
        return new Explanation.Row(0, rp.id(), OptionalInt.empty(), Optional.empty(), Explanation.Status.EXCLUDED,
                "excluded by " + SelectionSettings.EXCLUDE.name(), "remove '" + rp.id() + "' from "
                + SelectionSettings.EXCLUDE.name() + " (or " + SelectionSettings.EXCLUDE.env().orElseThrow() + ") to consider it",
                new HostAvailability(false, Optional.of("not checked")), rp.source());
    }

    static Explanation.Row leftOutRow(RegisteredProvider rp, Candidate c, SelectionPolicy policy) {
        return new Explanation.Row(0, rp.id(), OptionalInt.of(c.priority()), c.activationType(),
                Explanation.Status.EXCLUDED, "left out by the selection policy " + policy,
                "bind another SelectionPolicy to consider it", host(rp.provider()), rp.source());
    }

    static Explanation.Row hostOnlyRow(RegisteredProvider rp, Candidate c, DeviceInfo device) {
        return new Explanation.Row(0, rp.id(), OptionalInt.of(c.priority()), c.activationType(),
                Explanation.Status.EXCLUDED, rp.id() + " runs on the host CPU, not on " + device.id()
                        + ": it is used for " + vendorWord(device) + " device only when requested by id",
                "request it by id (--backend " + rp.id() + ", -D" + SelectionSettings.BACKEND.name() + "=" + rp.id()
                        + ") to run the layer on the host, slowly", host(rp.provider()), rp.source());
    }

    private static String vendorWord(DeviceInfo device) {
        return switch (device.vendor()) {
            case NVIDIA -> "an NVIDIA";
            case AMD -> "an AMD";
            case INTEL -> "an Intel";
            case CPU -> "a CPU";
            case OTHER -> "a non-CPU";
        };
    }

    /**
     * The official backends that are not installed and would serve the layer on the device: all of
     * them when nothing device-side won, else those whose catalogue priority beats the winner's.
     */
    static List<Explanation.Row> notInstalledRows(ProviderRegistry registry, MoeLayerSpec spec, DeviceInfo device,
                                                 List<Explanation.Row> rows) {
        Optional<Explanation.Row> winner = Optional.empty();
        for (Explanation.Row r : rows) {
            if (r.status() == Explanation.Status.CHOSEN) {
                winner = Optional.of(r);
                break;
            }
        }
        int bar = winner.isPresent() && winner.get().priority().isPresent() ? winner.get().priority().getAsInt()
                : Integer.MIN_VALUE;
        if (winner.isPresent() && bar == Integer.MIN_VALUE) {
            return List.of();
        }
        List<Explanation.Row> out = new ArrayList<>();
        for (OfficialBackends.Entry o : OfficialBackends.all()) {
            if (registry.findRegistered(o.id()).isPresent() || !o.serves(spec, device) || o.priority() <= bar) {
                continue;
            }
            out.add(new Explanation.Row(0, o.id(), OptionalInt.of(o.priority()), Optional.of(o.activationFor(spec)),
                    Explanation.Status.NOT_INSTALLED, "add " + o.coordinates() + " (would run: " + o.wouldRun() + ")"
                    + (o.released() ? "" : "; planned, not released yet")
                    + (winner.isPresent() ? "; it ranks above " + winner.get().providerId() + " here" : ""),
                    "", HostAvailability.no("not installed"), "catalogue of official backends"));
        }
        return out;
    }

    static List<Explanation.Row> unavailableRows(ProviderRegistry registry) {
        List<Explanation.Row> rows = new ArrayList<>();
        for (UnavailableProvider u : registry.unavailable()) {
            rows.add(new Explanation.Row(0, u.name(), OptionalInt.empty(), Optional.empty(),
                    Explanation.Status.UNAVAILABLE, "failed to load: " + u.reason(),
                    "fix or remove the backend jar (" + u.source() + ")", HostAvailability.no("failed to load"),
                    u.source()));
        }
        return rows;
    }

}
