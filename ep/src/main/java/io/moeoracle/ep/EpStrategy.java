package io.moeoracle.ep;

/**
 * How an expert-parallel forward moves tokens between ranks. See {@link EpTrafficModel} for the bytes
 * each moves and docs/expert-parallelism.md for the trade-offs.
 */
public enum EpStrategy {
    /**
     * Every rank all-gathers every rank's tokens and routing (BF16 rows, top-k ids and weights), runs
     * its local experts over all of them with a standard-format kernel (routing ids are global; only
     * local experts contribute, the output holds partial sums), and a reduce-scatter (F32) sums the
     * partials and hands each rank its own tokens back. Fixed sizes: no host synchronization inside a
     * forward, capturable as a CUDA graph. Simple, best at small token counts.
     */
    ALL_GATHER,
    /**
     * Each token row goes only to the ranks that own one of its experts (once per rank, with its top-k
     * ids and weights): counts are exchanged first (one small all-gather and all-reduce), the host reads
     * them (one small device-to-host copy: not capturable), then send/receive of exactly the routed rows,
     * the local experts in the batched format {@code [E_local, Tb, H]}, the partial sums sent back and
     * summed on the token's rank. Fewer bytes at scale.
     */
    ALL_TO_ALL,
    /**
     * Chosen per forward: {@link #ALL_TO_ALL} from {@code moe.ep.allToAllMinTokens} tokens per rank on
     * when the traffic model says it moves fewer bytes, else {@link #ALL_GATHER}. Prepares kernels for
     * both (twice the expert weights in GPU memory).
     */
    AUTO
}
