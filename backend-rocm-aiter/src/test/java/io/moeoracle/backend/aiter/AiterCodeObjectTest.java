package io.moeoracle.backend.aiter;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Reads each AMDGPU code object as packed (the module's resources: target/classes here, the jar
 * wherever the jar is on the class path) and checks the ELF: 64-bit little-endian, e_machine
 * EM_AMDGPU (0xE0), the gfx target in e_flags and in the HSA metadata note, and every kernel of
 * aiter_moe.hip in the symbol table as a function with its kernel descriptor ({@code name.kd}).
 * A code object missing because no clang was installed skips (fails under -Dmoe.test.strict=true).
 */
class AiterCodeObjectTest {
    /** EF_AMDGPU_MACH values of the targets (llvm/BinaryFormat/ELF.h). */
    private static final Map<String, Integer> MACH = Map.of("gfx942", 0x04C, "gfx950", 0x04F);
    static final String[] KERNELS = {"moe_topk_softmax", "moe_align", "moe_quant_rows", "moe_gemm1_bf16",
        "moe_gemm2_bf16", "moe_gemm1_fp8", "moe_gemm2_fp8", "moe_reduce"};

    @ParameterizedTest
    @ValueSource(strings = {"gfx942", "gfx950"})
    void codeObjectIsAnAmdgpuElfForItsTargetWithEveryKernel(String target) {
        byte[] elf = AiterImage.bytes(target).orElse(null);
        if (elf == null) {
            String message = AiterImage.missing(target) + " (install clang-22 and lld-22)";
            if (Boolean.getBoolean("moe.test.strict")) {
                Assertions.fail(message + " (-Dmoe.test.strict=true: a missing component fails the build)");
            }
            System.err.println("[SKIPPED] AiterCodeObjectTest needs " + message);
            Assumptions.abort(message);
        }
        ByteBuffer b = ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(b.getInt(0)).as("ELF magic").isEqualTo(0x464C457F);
        assertThat(elf[4]).as("ELFCLASS64").isEqualTo((byte) 2);
        assertThat(elf[5]).as("little endian").isEqualTo((byte) 1);
        assertThat(elf[7]).as("EI_OSABI = ELFOSABI_AMDGPU_HSA").isEqualTo((byte) 64);
        assertThat(b.getShort(18) & 0xFFFF).as("e_machine EM_AMDGPU").isEqualTo(0xE0);
        assertThat(b.getInt(48) & 0xFF).as("e_flags EF_AMDGPU_MACH of " + target).isEqualTo(MACH.get(target));
        assertThat(new String(elf, StandardCharsets.ISO_8859_1)).as("HSA metadata names the target")
                .contains("amdgcn-amd-amdhsa--" + target);

        Map<String, Integer> symbols = symbols(b);
        for (String k : KERNELS) {
            assertThat(symbols).as("symbol table of " + target).containsEntry(k, 2); // STT_FUNC
            assertThat(symbols).as("kernel descriptor of " + k).containsEntry(k + ".kd", 1); // STT_OBJECT
        }
    }

    /** Every symbol of .symtab and .dynsym with its type (st_info low nibble). */
    static Map<String, Integer> symbols(ByteBuffer b) {
        long shoff = b.getLong(40);
        int shentsize = b.getShort(58) & 0xFFFF;
        int shnum = b.getShort(60) & 0xFFFF;
        Map<String, Integer> out = new HashMap<>();
        for (int i = 0; i < shnum; i++) {
            int sh = (int) (shoff + (long) i * shentsize);
            int type = b.getInt(sh + 4);
            if (type != 2 && type != 11) { // SHT_SYMTAB, SHT_DYNSYM
                continue;
            }
            long off = b.getLong(sh + 24);
            long size = b.getLong(sh + 32);
            int link = b.getInt(sh + 40);
            long entsize = b.getLong(sh + 56);
            int strSh = (int) (shoff + (long) link * shentsize);
            long strOff = b.getLong(strSh + 24);
            for (long s = off + entsize; s < off + size; s += entsize) { // entry 0 is the null symbol
                int name = b.getInt((int) s);
                int info = b.get((int) s + 4) & 0xFF;
                out.put(cString(b, (int) (strOff + name)), info & 0xF);
            }
        }
        return out;
    }

    private static String cString(ByteBuffer b, int at) {
        StringBuilder sb = new StringBuilder();
        for (int i = at; b.get(i) != 0; i++) {
            sb.append((char) (b.get(i) & 0xFF));
        }
        return sb.toString();
    }
}
