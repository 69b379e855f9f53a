package io.moeoracle.driver.opencl;

import static org.assertj.core.api.Assertions.assertThat;

import io.moeoracle.driver.opencl.ffi.OpenClSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IcdRegistryTest {

    @Test
    void readsTheDefaultFolderAndFlagsPocl(@TempDir Path vendors) throws Exception {
        Files.writeString(vendors.resolve("pocl.icd"), "libpocl.so.2\n");
        Files.writeString(vendors.resolve("nvidia.icd"), "\n  libnvidia-opencl.so.1  \n");
        Files.writeString(vendors.resolve("README"), "libpocl.so.2\n"); // not an .icd file
        IcdRegistry r = IcdRegistry.read(Map.of(), vendors);
        assertThat(r.drivers()).extracting(IcdRegistry.Driver::library).containsExactly("libnvidia-opencl.so.1", "libpocl.so.2");
        assertThat(r.signalReplacing()).extracting(IcdRegistry.Driver::library).containsExactly("libpocl.so.2");
        assertThat(r.others()).extracting(IcdRegistry.Driver::library).containsExactly("libnvidia-opencl.so.1");
        assertThat(r.source()).isEqualTo(vendors.toString());
    }

    @Test
    void environmentReplacesTheFolderAndAddsFilenames(@TempDir Path dir) throws Exception {
        Path defaults = Files.createDirectory(dir.resolve("etc"));
        Files.writeString(defaults.resolve("pocl.icd"), "libpocl.so.2\n");
        Path mine = Files.createDirectory(dir.resolve("mine"));
        Files.writeString(mine.resolve("intel.icd"), "/opt/intel/libigdrcl.so\n");
        IcdRegistry r = IcdRegistry.read(Map.of("OCL_ICD_VENDORS", mine.toString(),
                "OCL_ICD_FILENAMES", "/usr/lib/x86_64-linux-gnu/pocl/libpocl.so.2:"), defaults);
        assertThat(r.drivers()).extracting(IcdRegistry.Driver::library)
                .containsExactly("/usr/lib/x86_64-linux-gnu/pocl/libpocl.so.2", "/opt/intel/libigdrcl.so");
        assertThat(r.signalReplacing()).singleElement().extracting(IcdRegistry.Driver::registeredBy).isEqualTo("OCL_ICD_FILENAMES");
        assertThat(r.source()).contains("OCL_ICD_FILENAMES", "OCL_ICD_VENDORS=" + mine);
    }

    @Test
    void oneIcdFileByPathOrByNameAndNothingWhenAbsent(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("pocl.icd"), "libpocl.so.2");
        assertThat(IcdRegistry.read(Map.of("OCL_ICD_VENDORS", dir.resolve("pocl.icd").toString()), Path.of("/nonexistent"))
                .signalReplacing()).hasSize(1);
        assertThat(IcdRegistry.read(Map.of("OCL_ICD_VENDORS", "pocl.icd"), dir).signalReplacing()).hasSize(1);
        assertThat(IcdRegistry.read(Map.of(), dir.resolve("missing")).drivers()).isEmpty();
    }

    @Test
    void gateRefusesPoclUnlessAskedAndNamesTheOthers(@TempDir Path vendors) throws Exception {
        Files.writeString(vendors.resolve("pocl.icd"), "libpocl.so.2\n");
        Files.writeString(vendors.resolve("intel.icd"), "libigdrcl.so\n");
        IcdRegistry r = IcdRegistry.read(Map.of(), vendors);
        Map<String, String> none = Map.of();
        assertThat(PoclGate.refusal(r, none::get, none::get)).hasValueSatisfying(reason -> assertThat(reason)
                .contains("libpocl.so.2", OpenClSettings.ALLOW_POCL.name(), OpenClSettings.ALLOW_POCL.env().orElseThrow(), "libjsig", "libigdrcl.so",
                        "OCL_ICD_VENDORS"));
        assertThat(PoclGate.refusal(r, Map.of(OpenClSettings.ALLOW_POCL.name(), "true")::get, none::get)).isEmpty();
        assertThat(PoclGate.refusal(r, none::get, Map.of(OpenClSettings.ALLOW_POCL.env().orElseThrow(), "true")::get)).isEmpty();
        assertThat(PoclGate.refusal(r, Map.of("moe.xpu.anyDevice", "true")::get, none::get)).isEmpty();
        assertThat(PoclGate.refusal(r, Map.of(OpenClSettings.PLATFORM.name(), "pocl")::get, none::get)).isEmpty();
        // an explicit "no" and a filter naming another platform win over anyDevice
        assertThat(PoclGate.refusal(r, Map.of("moe.xpu.anyDevice", "true", OpenClSettings.ALLOW_POCL.name(), "false")::get,
                none::get)).isPresent();
        assertThat(PoclGate.refusal(r, Map.of("moe.xpu.anyDevice", "true")::get,
                Map.of(OpenClSettings.PLATFORM.env().orElseThrow(), "Intel")::get)).isPresent();
        Files.delete(vendors.resolve("pocl.icd"));
        assertThat(PoclGate.refusal(IcdRegistry.read(Map.of(), vendors), none::get, none::get)).isEmpty();
    }
}
