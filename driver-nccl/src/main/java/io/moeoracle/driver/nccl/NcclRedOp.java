package io.moeoracle.driver.nccl;

/** {@code ncclRedOp_t}: the built-in reductions. */
public enum NcclRedOp {
    /** {@code ncclSum}. */
    SUM(0),
    /** {@code ncclProd}. */
    PROD(1),
    /** {@code ncclMax}. */
    MAX(2),
    /** {@code ncclMin}. */
    MIN(3),
    /** {@code ncclAvg} (NCCL 2.10+). */
    AVG(4);

    private final int code;

    NcclRedOp(int code) {
        this.code = code;
    }

    /** @return NCCL's enum value */
    public int code() {
        return code;
    }
}
