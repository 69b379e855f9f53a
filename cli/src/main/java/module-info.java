/** The {@code moe-oracle} command line. */
module io.moeoracle.cli {
    requires io.moeoracle.core;
    requires io.moeoracle.reference;
    requires io.moeoracle.bench;
    requires io.moeoracle.measure;
    requires io.moeoracle.ep;
    requires info.picocli;
    requires org.slf4j;
    requires java.desktop;
    requires org.jfree.jfreechart;
    requires org.jfree.svg;

    opens io.moeoracle.cli to info.picocli;
}
