package io.moeoracle.driver.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class CudaModuleImageKindTest {

    static byte[] resource(String name) throws IOException {
        try (InputStream in = CudaModuleImageKindTest.class.getResourceAsStream("/kernels/" + name)) {
            assertThat(in).as("test resource /kernels/%s (rebuild with src/test/cuda/build.sh)", name).isNotNull();
            return in.readAllBytes();
        }
    }

    @Test
    void recognizes_fatbin_cubin_and_ptx() throws IOException {
        assertThat(CudaModule.ImageKind.of(resource("test_kernels.fatbin"))).isEqualTo(CudaModule.ImageKind.FATBIN);
        assertThat(CudaModule.ImageKind.of(resource("test_kernels.ptx"))).isEqualTo(CudaModule.ImageKind.PTX);
        assertThat(CudaModule.ImageKind.of(new byte[] {0x7F, 'E', 'L', 'F', 2})).isEqualTo(CudaModule.ImageKind.CUBIN);
        assertThat(CudaModule.ImageKind.of(".version 8.0".getBytes(StandardCharsets.US_ASCII)))
                .isEqualTo(CudaModule.ImageKind.PTX);
    }
}
