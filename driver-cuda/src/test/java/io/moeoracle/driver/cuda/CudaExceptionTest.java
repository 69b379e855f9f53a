package io.moeoracle.driver.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CudaExceptionTest {

    @Test
    void message_names_the_call_its_arguments_and_the_error() {
        CudaException e = CudaException.of(2, "cuMemAlloc_v2", "bytesize=1125899906842624");

        assertThat(e.code()).isEqualTo(2);
        assertThat(e.call()).isEqualTo("cuMemAlloc_v2");
        assertThat(e.errorName()).isEqualTo("CUDA_ERROR_OUT_OF_MEMORY");
        assertThat(e.getMessage())
                .startsWith("cuMemAlloc_v2(bytesize=1125899906842624) failed: CUDA_ERROR_OUT_OF_MEMORY (2): ")
                .contains("free device memory");
    }

    @Test
    void unknown_codes_keep_their_number() {
        CudaException e = CudaException.of(123456, "cuSomething", "x=1");

        assertThat(e.errorName()).isEqualTo("CUresult 123456");
        assertThat(e.getMessage()).contains("cuSomething(x=1) failed").contains("(123456)");
    }

    @Test
    void invalid_context_says_to_make_the_context_current() {
        CudaException e = CudaException.of(CudaException.INVALID_CONTEXT, "cuMemAlloc_v2", "bytesize=4");

        assertThat(e.errorName()).isEqualTo("CUDA_ERROR_INVALID_CONTEXT");
        assertThat(e.getMessage()).contains("CudaContext.setCurrent()");
    }

    @Test
    void detail_such_as_a_jit_log_is_appended() {
        CudaException e = CudaException.of(CudaException.INVALID_PTX, "cuModuleLoadDataEx", "PTX image of 10 bytes",
                "JIT error log:\nptxas fatal: Unexpected token");

        assertThat(e.errorName()).isEqualTo("CUDA_ERROR_INVALID_PTX");
        assertThat(e.getMessage()).endsWith("JIT error log:\nptxas fatal: Unexpected token");
    }

    @Test
    void names_for_codes() {
        assertThat(CudaException.nameOf(100)).isEqualTo("CUDA_ERROR_NO_DEVICE");
        assertThat(CudaException.nameOf(700)).isEqualTo("CUDA_ERROR_ILLEGAL_ADDRESS");
    }

    @Test
    void it_is_the_apis_native_failure_with_the_drivers_text() {
        io.moeoracle.api.error.NativeFailureException e = CudaException.of(2, "cuMemAlloc_v2", "bytesize=8");

        assertThat(e.call()).isEqualTo("cuMemAlloc_v2");
        assertThat(e.arguments()).isEqualTo("bytesize=8");
        assertThat(e.driverText()).startsWith("CUDA_ERROR_OUT_OF_MEMORY (2): ");
    }
}
