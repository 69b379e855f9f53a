/**
 * The measured selection policy ({@code moe.policy=measured}, {@code SelectionPolicy.measured()}):
 * times every supported candidate on the device, keeps the fastest correct one per token-count
 * bucket, caches the result as JSON, and dispatches forwards per bucket. Depends on core, the
 * reference (the correctness check) and the benchmark harness (the timing); core finds it through
 * {@link io.moeoracle.core.select.SelectionPolicyFactory}.
 */
module io.moeoracle.measure {
    requires transitive io.moeoracle.core;
    requires io.moeoracle.reference;
    requires io.moeoracle.bench;
    requires org.slf4j;

    exports io.moeoracle.measure;

    provides io.moeoracle.core.select.SelectionPolicyFactory with io.moeoracle.measure.MeasuredPolicyFactory;
}
