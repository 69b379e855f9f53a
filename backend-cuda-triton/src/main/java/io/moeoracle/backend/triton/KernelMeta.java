package io.moeoracle.backend.triton;

import java.util.List;
import java.util.Map;

/**
 * Launch metadata of one compiled Triton kernel variant, as aot.py recorded it.
 *
 * @param variant the variant name (kernel, bucket, specialization), e.g. {@code moe_gemm2_prefill}
 * @param entry the PTX / cubin entry name
 * @param arch the target, {@code sm_90a} or {@code sm_80}
 * @param params parameter types in launch order ({@code *bf16}, {@code i32}, {@code fp32}, {@code i64},
 *     {@code *scratch} for Triton's trailing scratch pointers)
 * @param paramNames parameter names in launch order
 * @param constexprs the compile-time constants (tile sizes and flags)
 * @param numWarps warps per program
 * @param shared dynamic shared memory in bytes
 * @param clusterDims cluster dimensions (1, 1, 1 for every kernel here)
 */
record KernelMeta(String variant, String entry, String arch, List<String> params, List<String> paramNames,
                  Map<String, Long> constexprs, int numWarps, int shared, List<Integer> clusterDims) {

    /** @return threads per block */
    int threads() {
        return numWarps * 32;
    }

    /** @return the count of parameters the kernel's own signature has (without Triton's scratch pointers) */
    int ownParams() {
        return (int) params.stream().filter(p -> !p.equals("*scratch")).count();
    }

    /**
     * @param name a constexpr name
     * @return its value
     */
    int constant(String name) {
        Long v = constexprs.get(name);
        if (v == null) {
            throw TritonImage.broken(variant, variant + " has no constexpr " + name + " (it has " + constexprs.keySet()
                    + "); the kernel artifacts do not match this backend version");
        }
        return Math.toIntExact(v);
    }

    @SuppressWarnings("unchecked")
    static KernelMeta parse(String json, String source) {
        Map<String, Object> m = (Map<String, Object>) MiniJson.parse(json, source);
        List<Map<String, Object>> ps = (List<Map<String, Object>>) m.get("params");
        Map<String, Object> cs = (Map<String, Object>) m.get("constexprs");
        List<Object> cluster = (List<Object>) m.get("cluster_dims");
        if (ps == null || cs == null || cluster == null || m.get("entry") == null) {
            throw TritonImage.broken(source, source + " lacks params, constexprs, cluster_dims or entry; regenerate "
                    + "the kernel artifacts with src/main/triton/aot.py");
        }
        return new KernelMeta((String) m.get("variant"), (String) m.get("entry"), (String) m.get("arch"),
                ps.stream().map(p -> (String) p.get("type")).toList(),
                ps.stream().map(p -> (String) p.get("name")).toList(),
                cs.entrySet().stream().collect(java.util.stream.Collectors.toUnmodifiableMap(Map.Entry::getKey,
                        e -> ((Number) e.getValue()).longValue())),
                ((Number) m.get("num_warps")).intValue(), ((Number) m.get("shared")).intValue(),
                cluster.stream().map(o -> ((Number) o).intValue()).toList());
    }
}
