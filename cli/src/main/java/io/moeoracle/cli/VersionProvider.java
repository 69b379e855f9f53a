package io.moeoracle.cli;

import io.moeoracle.core.MoeOracleVersion;
import picocli.CommandLine;

/** Prints the library version and the Java runtime. */
final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        return new String[] {"moe-oracle " + MoeOracleVersion.get(),
            "Java " + Runtime.version() + " (" + System.getProperty("java.vm.vendor") + ")"};
    }
}
