package io.moeoracle.nativeload.ffi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.nativeload.ffi.NativeLibraryLoader;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.List;
import org.junit.jupiter.api.Test;

class NativeLibraryTest {

    @Test
    void a_missing_library_gives_handles_that_throw_with_every_attempt() {
        NativeLibrary lib = NativeLibrary.open("libnope", NativeLibraryLoader.builder("libnope")
                .fileNames("libnope-moe-oracle.so.9", "libnope-moe-oracle.so").libraryPath(List.of()).build());

        assertThat(lib.isLoaded()).isFalse();
        assertThat(lib.failure()).hasValueSatisfying(f -> assertThat(f.getSuppressed()).hasSize(2));
        MethodHandle h = lib.downcall(FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), "nope");
        assertThatThrownBy(() -> {
            int ignored = (int) h.invokeExact(1);
            assertThat(ignored).isZero();
        }).isInstanceOf(NativeUnavailableError.class).hasMessageContaining("libnope is not loaded");
    }

    @Test
    void a_missing_symbol_is_named_and_fallback_names_are_tried() throws Throwable {
        NativeLibrary libc = NativeLibrary.open("libc", NativeLibraryLoader.builder("libc").fileNames("libc.so.6").build());
        assertThat(libc.isLoaded()).isTrue();

        MethodHandle missing = libc.downcall(FunctionDescriptor.of(ValueLayout.JAVA_INT), "moe_no_such_symbol");
        assertThatThrownBy(() -> {
            int ignored = (int) missing.invokeExact();
            assertThat(ignored).isZero();
        }).isInstanceOf(NativeUnavailableError.class).hasMessageContaining("symbol moe_no_such_symbol not found");

        MethodHandle abs = libc.downcall(FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
                "moe_no_such_symbol", "abs");
        assertThat((int) abs.invokeExact(-5)).isEqualTo(5);
    }
}
