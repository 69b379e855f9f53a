/**
 * The one native-library loading mechanism of moe-oracle, shared by backend-cpu, driver-cuda and
 * driver-opencl: an explicit setting, then {@code java.library.path}, then a library extracted
 * from the jar, then the system's dynamic loader; every failed attempt is kept as a suppressed
 * cause of the one final error, which names the setting that fixes it.
 */
module io.moeoracle.nativeload {
    requires transitive io.moeoracle.api;
    requires org.slf4j;

    exports io.moeoracle.nativeload;
    exports io.moeoracle.nativeload.ffi;
}
