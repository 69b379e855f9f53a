/** The {@code moe-oracle} command line. */
module io.moeoracle.cli {
    requires io.moeoracle.core;
    requires io.moeoracle.reference;
    requires io.moeoracle.bench;
    requires io.moeoracle.measure;
    requires info.picocli;
    requires org.slf4j;

    opens io.moeoracle.cli to info.picocli;
}
