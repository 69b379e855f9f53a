package io.moeoracle.driver.opencl;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.api.error.NativeFailureException;
import org.junit.jupiter.api.Test;

class OpenClExceptionTest {

    @Test
    void itIsTheApisNativeFailureWithCallArgumentsAndErrorNameApart() {
        NativeFailureException e = new OpenClException("clCreateBuffer(size=1073741824, flags=0x1)", -61, "");
        assertThat(e.call()).isEqualTo("clCreateBuffer");
        assertThat(e.arguments()).isEqualTo("size=1073741824, flags=0x1");
        assertThat(e.driverText()).isEqualTo("CL_INVALID_BUFFER_SIZE (-61)");
        assertThat(e.getMessage()).isEqualTo("clCreateBuffer(size=1073741824, flags=0x1) failed: CL_INVALID_BUFFER_SIZE (-61)");
    }
}
