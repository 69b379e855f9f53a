/** The {@code moe-oracle} command line. */
module io.moeoracle.cli {
    requires io.moeoracle.core;
    requires info.picocli;
    requires org.slf4j;

    opens io.moeoracle.cli to info.picocli;
}
