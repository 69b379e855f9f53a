package io.moeoracle.driver.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The NVIDIA kernel module's version, as a device's driver version carries it beside cuDriverGetVersion. */
class CudaDriverVersionTest {
    @TempDir
    Path dir;

    @Test
    void readsTheKernelModuleVersionFromProcDriverNvidiaVersion() throws IOException {
        Path file = dir.resolve("version");
        Files.writeString(file, "NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.65.06  Sun Jul 27 07:09:30 UTC 2025\n"
                + "GCC version:  gcc version 13.3.0 (Ubuntu 13.3.0-6ubuntu2~24.04)\n");
        assertThat(CudaDriver.kernelModuleVersion(file)).isEqualTo("580.65.06");
        // the open kernel modules say "Open Kernel Module"
        Files.writeString(file, "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.86.15  Release Build\n");
        assertThat(CudaDriver.kernelModuleVersion(file)).as("'for x86_64' is no version").isEmpty();
        Files.writeString(file, "NVRM version: NVIDIA UNIX Open Kernel Module  570.86.15  Release Build\n");
        assertThat(CudaDriver.kernelModuleVersion(file)).isEqualTo("570.86.15");
        assertThat(CudaDriver.kernelModuleVersion(dir.resolve("missing"))).isEmpty();
    }
}
