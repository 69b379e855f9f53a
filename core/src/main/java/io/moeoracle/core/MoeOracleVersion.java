package io.moeoracle.core;

/** The library's version, read from the jar manifest when packaged. */
public final class MoeOracleVersion {
    private MoeOracleVersion() {
    }

    /** @return the implementation version (or the module's version), or {@code "dev"} when run from classes */
    public static String get() {
        String v = MoeOracleVersion.class.getPackage().getImplementationVersion();
        if (v == null && MoeOracleVersion.class.getModule().getDescriptor() != null) {
            // on the module path (as ./moe-oracle runs) the version is the module's, recorded by the build
            v = MoeOracleVersion.class.getModule().getDescriptor().rawVersion().orElse(null);
        }
        return v == null ? "dev" : v;
    }
}
