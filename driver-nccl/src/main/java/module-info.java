/**
 * A small typed FFM facade over NCCL ({@code libnccl.so.2}): the library's version and unique ids,
 * communicators (one rank per process with {@code ncclCommInitRank}, or one JVM driving several GPUs),
 * group calls, all-gather, reduce-scatter, all-reduce, send and receive, abort and destroy. Every
 * failure names the call, its arguments and NCCL's own text. Native calls live in
 * {@code io.moeoracle.driver.nccl.ffi}, which is not exported.
 */
module io.moeoracle.driver.nccl {
    requires transitive io.moeoracle.driver.cuda;
    requires io.moeoracle.nativeload;
    requires org.slf4j;

    exports io.moeoracle.driver.nccl;
}
