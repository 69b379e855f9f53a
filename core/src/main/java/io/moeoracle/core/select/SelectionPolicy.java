package io.moeoracle.core.select;

import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.core.MoeOracleException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * The order in which the selector asks providers; the first that supports the layer wins. A host
 * replaces the default ({@link DefaultSelectionPolicy}) through Guice or the selector's
 * constructor. The user's {@code moe.priority} and {@code moe.exclude} are applied by the selector
 * on top of whatever order the policy returns. A policy that only orders works on plain values: it
 * never calls a provider, so it cannot be broken by one. A policy that must run the candidates to
 * order them (the measured one, in {@code moe-oracle-measure}) overrides
 * {@link #order(List, Map, MoeLayerSpec, DeviceInfo)}, which the selector calls, and may add a
 * {@link #remark} beside each verdict.
 */
@FunctionalInterface
public interface SelectionPolicy {

    /**
     * Orders the candidates. A candidate left out of the result is not asked; the explanation lists
     * it as left out by the policy.
     *
     * @param candidates every provider not excluded by the user, sorted by id, with its priority and
     *     activation type for this layer and device
     * @param spec the layer
     * @param device the device
     * @return the candidates to ask, first first (matched to providers by id)
     */
    List<Candidate> order(List<Candidate> candidates, MoeLayerSpec spec, DeviceInfo device);

    /**
     * Orders the candidates with their providers at hand, for a policy that runs them (e.g. times
     * them). The selector calls this one; by default it ignores the providers.
     *
     * @param candidates as for {@link #order(List, MoeLayerSpec, DeviceInfo)}
     * @param providers each candidate's provider, by id
     * @param spec the layer
     * @param device the device
     * @return the candidates to ask, first first
     */
    default List<Candidate> order(List<Candidate> candidates, Map<String, MoeKernelProvider> providers,
                                  MoeLayerSpec spec, DeviceInfo device) {
        return order(candidates, spec, device);
    }

    /**
     * What the policy has to say beside one provider's verdict (e.g. its measured times, or why it
     * was left out); asked after {@link #order(List, Map, MoeLayerSpec, DeviceInfo)} for the same
     * layer and device. None by default.
     *
     * @param providerId the provider
     * @param spec the layer
     * @param device the device
     * @return the remark, appended to the verdict's reason in the explanation
     */
    default Optional<String> remark(String providerId, MoeLayerSpec spec, DeviceInfo device) {
        return Optional.empty();
    }

    /**
     * The measured policy: times every supported candidate on the device and orders by the times.
     * It lives in {@code moe-oracle-measure} (it needs the reference and the benchmark harness, which
     * core may not depend on) and is found through {@link ServiceLoader}.
     *
     * @return a new measured policy, with the settings of this JVM ({@code moe.measure.*})
     * @throws MoeOracleException when {@code moe-oracle-measure} is not on the class or module path
     */
    static SelectionPolicy measured() {
        return named("measured");
    }

    /**
     * A policy by name: {@code default} is {@link DefaultSelectionPolicy}; any other name is a
     * {@link SelectionPolicyFactory} found through {@link ServiceLoader}.
     *
     * @param name the policy's name, e.g. the value of {@code moe.policy}
     * @return a new policy
     * @throws MoeOracleException when no installed factory has that name
     */
    static SelectionPolicy named(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        if (n.isEmpty() || n.equals("default")) {
            return new DefaultSelectionPolicy();
        }
        for (ClassLoader cl : new ClassLoader[] {Thread.currentThread().getContextClassLoader(),
                SelectionPolicy.class.getClassLoader()}) {
            for (SelectionPolicyFactory f : ServiceLoader.load(SelectionPolicyFactory.class, cl)) {
                if (f.name().equalsIgnoreCase(n)) {
                    return f.create();
                }
            }
        }
        throw new MoeOracleException("no selection policy named '" + name + "' is installed (set by "
                + SelectionSettings.POLICY.name() + " or --policy). Use 'default', or for 'measured' add the artifact"
                + " io.moeoracle:moe-oracle-measure to the class or module path.");
    }

    /**
     * @return the policy {@code moe.policy} (or {@code MOE_POLICY}) names, {@link DefaultSelectionPolicy} when unset
     */
    static SelectionPolicy fromSystem() {
        return named(SelectionSettings.POLICY.value().orElse("default"));
    }
}
