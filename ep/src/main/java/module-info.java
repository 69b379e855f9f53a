/**
 * Expert parallelism: one MoE layer sharded over several GPUs, its tokens dispatched and combined
 * over NCCL. {@link io.moeoracle.ep.ExpertParallelMoe} is the entry point; the dispatch/combine
 * kernels and the per-rank plumbing live in {@code io.moeoracle.ep.internal}, which is not exported.
 */
module io.moeoracle.ep {
    requires transitive io.moeoracle.core;
    requires transitive io.moeoracle.driver.nccl;
    requires org.slf4j;

    exports io.moeoracle.ep;
}
