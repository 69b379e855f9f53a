package io.moeoracle.core;

/** The library's version, read from the jar manifest when packaged. */
public final class MoeOracleVersion {
    private MoeOracleVersion() {
    }

    /** @return the implementation version, or {@code "dev"} when run from classes */
    public static String get() {
        String v = MoeOracleVersion.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
