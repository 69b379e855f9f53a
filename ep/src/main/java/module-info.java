/**
 * Expert parallelism: one MoE layer sharded over several GPUs, its tokens dispatched and combined
 * over NCCL. {@link io.moeoracle.ep.ExpertParallelMoe} is the entry point; the dispatch/combine
 * kernels and the per-rank plumbing are package-private classes of the same package.
 */
module io.moeoracle.ep {
    requires transitive io.moeoracle.core;
    requires transitive io.moeoracle.driver.nccl;
    requires org.slf4j;

    exports io.moeoracle.ep;
}
