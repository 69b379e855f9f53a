package io.moeoracle.backend.cpu.ffi;

import io.moeoracle.nativeload.NativeLibraryException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.function.Function;

/**
 * The LoRA downcalls into {@code libmoeoracle_cpu} (lora.c): one {@link MethodHandle} per C function,
 * each return code turned into a {@link CpuNativeException} with the layer's error text. Obtain it
 * from {@link MoeCpuNative#lora()}.
 */
@SuppressWarnings("restricted")
public final class CpuLoraNative {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final java.lang.foreign.AddressLayout A = ValueLayout.ADDRESS;

    private final MethodHandle configure;
    private final MethodHandle load;
    private final MethodHandle unload;
    private final Function<MemorySegment, String> layerError;

    CpuLoraNative(SymbolLookup l, Function<MemorySegment, String> layerError) {
        this.layerError = layerError;
        configure = handle(l, "moe_cpu_lora_configure", FunctionDescriptor.of(I, A, I, I));
        load = handle(l, "moe_cpu_lora_load", FunctionDescriptor.of(I, A, I, I, F, A, A, A, A, A, A));
        unload = handle(l, "moe_cpu_lora_unload", FunctionDescriptor.of(I, A, I));
    }

    private static MethodHandle handle(SymbolLookup lookup, String name, FunctionDescriptor fd) {
        MemorySegment symbol = lookup.find(name).orElseThrow(() -> new NativeLibraryException(
                "symbol " + name + " is missing from libmoeoracle_cpu; the library does not match this jar"));
        return LINKER.downcallHandle(symbol, fd);
    }

    /**
     * Gives a layer its adapter slots; once, right after creation.
     *
     * @param layer a layer handle
     * @param slots resident adapters
     * @param maxRank the largest rank
     */
    public void configure(MemorySegment layer, int slots, int maxRank) {
        int rc;
        try {
            rc = (int) configure.invokeExact(layer, slots, maxRank);
        } catch (Throwable t) {
            throw MoeCpuNative.rethrow("moe_cpu_lora_configure", t);
        }
        check(rc, "moe_cpu_lora_configure", "slots=" + slots + ", maxRank=" + maxRank, layer);
    }

    /**
     * Loads an adapter into a slot (native BF16 segments in the canonical layouts).
     *
     * @param layer a layer handle
     * @param slot the slot
     * @param rank r
     * @param scaling the factor
     * @param f the six factors: gateA, gateB, upA, upB, downA, downB
     */
    public void load(MemorySegment layer, int slot, int rank, float scaling, MemorySegment... f) {
        int rc;
        try {
            rc = (int) load.invokeExact(layer, slot, rank, scaling, f[0], f[1], f[2], f[3], f[4], f[5]);
        } catch (Throwable t) {
            throw MoeCpuNative.rethrow("moe_cpu_lora_load", t);
        }
        check(rc, "moe_cpu_lora_load", "slot=" + slot + ", rank=" + rank, layer);
    }

    /**
     * Empties a slot.
     *
     * @param layer a layer handle
     * @param slot the slot
     */
    public void unload(MemorySegment layer, int slot) {
        int rc;
        try {
            rc = (int) unload.invokeExact(layer, slot);
        } catch (Throwable t) {
            throw MoeCpuNative.rethrow("moe_cpu_lora_unload", t);
        }
        check(rc, "moe_cpu_lora_unload", "slot=" + slot, layer);
    }

    private void check(int rc, String call, String args, MemorySegment layer) {
        if (rc != 0) {
            throw new CpuNativeException(call, args, rc, layerError.apply(layer));
        }
    }
}
