package io.moeoracle.core.select;

/**
 * Makes a named {@link SelectionPolicy} (e.g. {@code measured}) that lives outside core; found by
 * {@link SelectionPolicy#named(String)} through {@link java.util.ServiceLoader}.
 */
public interface SelectionPolicyFactory {

    /** @return the policy's name as {@code moe.policy} spells it, e.g. {@code measured} */
    String name();

    /** @return a new policy with this JVM's settings */
    SelectionPolicy create();
}
