package io.moeoracle.measure;

import io.moeoracle.core.select.SelectionPolicy;
import io.moeoracle.core.select.SelectionPolicyFactory;

/** Gives {@code moe.policy=measured} and {@code SelectionPolicy.measured()} their policy. */
public final class MeasuredPolicyFactory implements SelectionPolicyFactory {

    /** For {@link java.util.ServiceLoader}. */
    public MeasuredPolicyFactory() {
    }

    @Override
    public String name() {
        return "measured";
    }

    @Override
    public SelectionPolicy create() {
        return MeasuredSelectionPolicy.fromSystem();
    }
}
