package io.moeoracle.backend.triton;

import io.moeoracle.api.error.BadInputException;
import io.moeoracle.driver.cuda.CudaContext;
import io.moeoracle.driver.cuda.CudaFunction;
import io.moeoracle.driver.cuda.CudaModule;
import io.moeoracle.driver.cuda.CudaStream;
import io.moeoracle.driver.cuda.KernelArgs;
import io.moeoracle.driver.cuda.LaunchConfig;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The cubins of one kernel instance, one {@link CudaModule} per variant, each launched with the block
 * size and shared memory its metadata records and with its parameter list checked: the caller passes
 * the kernel's own arguments, this class appends Triton's trailing scratch pointers (null: aot.py
 * refuses variants that need scratch memory).
 */
final class TritonModules implements AutoCloseable {
    private static final int DEFAULT_SMEM_LIMIT = 48 * 1024;

    private final CudaContext context;
    private final String arch;
    private final Map<String, Loaded> loaded = new HashMap<>();
    private final List<CudaModule> modules = new ArrayList<>();

    private record Loaded(KernelMeta meta, CudaFunction function) {
    }

    TritonModules(CudaContext context, String arch) {
        this.context = context;
        this.arch = arch;
    }

    /**
     * Loads a variant (once) and raises its dynamic shared-memory limit where Triton needs more than 48 KB.
     *
     * @param variant the variant name
     * @return its metadata
     */
    KernelMeta load(String variant) {
        Loaded l = loaded.get(variant);
        if (l == null) {
            KernelMeta meta = TritonImage.meta(variant, arch);
            if (!meta.clusterDims().stream().allMatch(d -> d == 1)) {
                throw TritonImage.broken(variant, variant + " was compiled with cluster dims " + meta.clusterDims()
                        + "; this launcher runs 1x1x1 clusters only (cuLaunchKernel); regenerate without clusters");
            }
            CudaModule module = context.loadModule(TritonImage.cubin(variant, arch));
            modules.add(module);
            CudaFunction f = module.function(meta.entry());
            if (meta.shared() > DEFAULT_SMEM_LIMIT) {
                f.setMaxDynamicSharedMemory(meta.shared());
            }
            l = new Loaded(meta, f);
            loaded.put(variant, l);
        }
        return l.meta();
    }

    /**
     * @param variant a loaded variant
     * @return its metadata
     */
    KernelMeta meta(String variant) {
        return get(variant).meta();
    }

    /**
     * Launches a loaded variant.
     *
     * @param variant the variant
     * @param gridX grid x
     * @param gridY grid y
     * @param gridZ grid z (split-K slabs)
     * @param stream the stream
     * @param arena where the argument block lives until the launch returns
     * @param args the kernel's own arguments in signature order (scratch pointers are appended here)
     */
    void launch(String variant, long gridX, long gridY, int gridZ, CudaStream stream, Arena arena,
                KernelArgs.Builder args) {
        Loaded l = get(variant);
        KernelMeta m = l.meta();
        for (int i = m.ownParams(); i < m.params().size(); i++) {
            args.pointer(0L);
        }
        KernelArgs built = args.build(arena);
        check(m, built);
        if (gridX < 1 || gridX > Integer.MAX_VALUE || gridY < 1 || gridY > 65535 || gridZ < 1 || gridZ > 65535) {
            throw new BadInputException(variant + ": grid " + gridX + " x " + gridY + " x " + gridZ + " is "
                    + "outside the launch limits (x 1..2^31-1, y and z 1..65535); pass fewer tokens per call");
        }
        l.function().launch(new LaunchConfig((int) gridX, (int) gridY, gridZ, m.threads(), 1, 1, m.shared()), stream,
                built);
    }

    private static void check(KernelMeta m, KernelArgs args) {
        if (args.count() != m.params().size()) {
            throw TritonImage.broken(m.variant(), m.variant() + " takes " + m.params().size() + " parameters "
                    + m.paramNames() + " but the launcher passed " + args.count() + "; the Java launch code and the "
                    + "kernel artifacts disagree");
        }
        for (int i = 0; i < args.count(); i++) {
            String t = m.params().get(i);
            KernelArgs.Kind want = t.startsWith("*") ? KernelArgs.Kind.POINTER : switch (t) {
                case "i32" -> KernelArgs.Kind.I32;
                case "i64" -> KernelArgs.Kind.I64;
                case "fp32" -> KernelArgs.Kind.F32;
                default -> throw TritonImage.broken(m.variant(), m.variant() + " parameter " + m.paramNames().get(i)
                        + " has type " + t + ", which this launcher does not pass");
            };
            if (args.kind(i) != want) {
                throw TritonImage.broken(m.variant(), m.variant() + " parameter " + i + " (" + m.paramNames().get(i) + ": "
                        + t + ") was passed as " + args.kind(i));
            }
        }
    }

    private Loaded get(String variant) {
        Loaded l = loaded.get(variant);
        if (l == null) {
            throw TritonImage.broken(variant, "kernel variant " + variant + " was not loaded; the launch code and"
                    + " the variants loaded at create disagree");
        }
        return l;
    }

    @Override
    public void close() {
        for (CudaModule m : modules) {
            m.close();
        }
        modules.clear();
        loaded.clear();
    }
}
