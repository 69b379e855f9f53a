package io.moeoracle.driver.nccl;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Error text: the call, its arguments, NCCL's name for the code, and a hint for the usual causes. */
class NcclExceptionTest {

    @Test
    @DisplayName("a failed call names the call, the arguments, the result's name and code, and a hint")
    void message() {
        NcclException e = NcclException.of(NcclException.REMOTE_ERROR, "ncclAllGather", "sendcount=64, rank=1/2",
                MemorySegment.NULL);
        assertThat(e.getMessage()).startsWith("ncclAllGather(sendcount=64, rank=1/2) failed: ncclRemoteError (6): ")
                .contains("another rank failed");
        assertThat(e.call()).isEqualTo("ncclAllGather");
        assertThat(e.arguments()).isEqualTo("sendcount=64, rank=1/2");
        assertThat(e.code()).isEqualTo(6);
        assertThat(e.driverText()).startsWith("ncclRemoteError (6): ");
    }

    @Test
    @DisplayName("every ncclResult_t has its name; unknown codes say so")
    void names() {
        assertThat(NcclException.nameOf(0)).isEqualTo("ncclSuccess");
        assertThat(NcclException.nameOf(1)).isEqualTo("ncclUnhandledCudaError");
        assertThat(NcclException.nameOf(5)).isEqualTo("ncclInvalidUsage");
        assertThat(NcclException.nameOf(7)).isEqualTo("ncclInProgress");
        assertThat(NcclException.nameOf(8)).isEqualTo("ncclTimeout");
        assertThat(NcclException.nameOf(42)).isEqualTo("ncclResult_t 42");
    }

    @Test
    @DisplayName("a timeout names what was waited for, how long, that it aborted, and the remedy")
    void timeout() {
        NcclTimeoutException e = new NcclTimeoutException("ncclAllGather", "rank 0 of 2 on cuda:0", Duration.ofSeconds(5),
                "check that every rank called forward");
        assertThat(e.getMessage()).contains("ncclAllGather(rank 0 of 2 on cuda:0) failed: ncclTimeout (8)")
                .contains("5000 ms").contains("ncclCommAbort").contains("check that every rank called forward");
        assertThat(e.timeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(e).isInstanceOf(io.moeoracle.api.error.NativeFailureException.class);
    }
}
