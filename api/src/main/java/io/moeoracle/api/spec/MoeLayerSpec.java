package io.moeoracle.api.spec;

import java.util.Objects;
import java.util.Optional;

/**
 * One Mixture-of-Experts layer as a kernel sees it. Validated at construction: every failure is
 * an {@link InvalidSpecException} whose message names the field, the value and the rule.
 *
 * @param experts total number of experts E (across all expert-parallel ranks)
 * @param topK experts per token
 * @param hiddenSize model dimension H
 * @param intermediateSize expert intermediate dimension I (the first GEMM produces 2I)
 * @param quant weight format and activation type
 * @param activation the gated activation between the GEMMs
 * @param hasBias whether both GEMMs add a per-expert bias
 * @param activationFormat standard or batched token layout
 * @param lora whether LoRA adapters are applied to the expert GEMMs; true exactly when
 *     {@code adapterSlots > 0}
 * @param maxLoraRank the largest rank of an adapter the kernel must take (0 without LoRA; 1 to
 *     {@link #MAX_LORA_RANK} with it)
 * @param adapterSlots how many adapters are resident at once (0 without LoRA; 1 to
 *     {@link #MAX_ADAPTER_SLOTS} with it): a token's adapter index lies in {@code [-1, adapterSlots)}
 * @param expertParallelSize number of expert-parallel ranks (1 = none)
 * @param expertParallelRank this rank, in {@code [0, expertParallelSize)}
 * @param maxTokensPerCall the most tokens one forward call may carry
 * @param requestedBackend a backend id the host insists on, if any
 */
public record MoeLayerSpec(
        int experts,
        int topK,
        int hiddenSize,
        int intermediateSize,
        QuantScheme quant,
        Activation activation,
        boolean hasBias,
        ActivationFormat activationFormat,
        boolean lora,
        int maxLoraRank,
        int adapterSlots,
        int expertParallelSize,
        int expertParallelRank,
        int maxTokensPerCall,
        Optional<String> requestedBackend) {

    /** The largest expert count accepted. */
    public static final int MAX_EXPERTS = 1 << 16;
    /** The largest hidden or intermediate size accepted. */
    public static final int MAX_DIM = 1 << 17;
    /** The largest LoRA rank accepted. */
    public static final int MAX_LORA_RANK = 512;
    /** The most resident adapters accepted. */
    public static final int MAX_ADAPTER_SLOTS = 1024;
    /** The LoRA rank {@link Builder#lora(boolean) lora(true)} asks for when none is given. */
    public static final int DEFAULT_LORA_RANK = 16;
    /** The adapter slots {@link Builder#lora(boolean) lora(true)} asks for when none are given. */
    public static final int DEFAULT_ADAPTER_SLOTS = 4;

    /** Checks every rule; see the class comment. */
    public MoeLayerSpec {
        Objects.requireNonNull(quant, "quant");
        Objects.requireNonNull(activation, "activation");
        Objects.requireNonNull(activationFormat, "activationFormat");
        Objects.requireNonNull(requestedBackend, "requestedBackend");
        range("experts", experts, 1, MAX_EXPERTS);
        if (topK < 1 || topK > experts) {
            throw new InvalidSpecException("topK", "topK " + topK + " must be between 1 and experts (" + experts + ")");
        }
        range("hiddenSize", hiddenSize, 1, MAX_DIM);
        range("intermediateSize", intermediateSize, 1, MAX_DIM);
        int block = quant.weights().blockSize();
        String fmt = quant.weights().toString().toUpperCase(java.util.Locale.ROOT);
        if (hiddenSize % block != 0) {
            throw new InvalidSpecException("hiddenSize",
                    "hiddenSize " + hiddenSize + " must be a multiple of " + block + " for " + fmt);
        }
        if (intermediateSize % block != 0) {
            throw new InvalidSpecException("intermediateSize",
                    "intermediateSize " + intermediateSize + " must be a multiple of " + block + " for " + fmt);
        }
        if (quant.activations() == ActivationType.MXFP8 && hiddenSize % 32 != 0) {
            throw new InvalidSpecException("hiddenSize",
                    "hiddenSize " + hiddenSize + " must be a multiple of 32 for MXFP8 activations");
        }
        range("expertParallelSize", expertParallelSize, 1, experts);
        if (experts % expertParallelSize != 0) {
            throw new InvalidSpecException("expertParallelSize", "expertParallelSize " + expertParallelSize
                    + " must divide experts (" + experts + ")");
        }
        if (expertParallelRank < 0 || expertParallelRank >= expertParallelSize) {
            throw new InvalidSpecException("expertParallelRank", "expertParallelRank " + expertParallelRank
                    + " must be between 0 and expertParallelSize-1 (" + (expertParallelSize - 1) + ")");
        }
        range("maxTokensPerCall", maxTokensPerCall, 1, 1 << 24);
        if (lora) {
            range("maxLoraRank", maxLoraRank, 1, MAX_LORA_RANK);
            range("adapterSlots", adapterSlots, 1, MAX_ADAPTER_SLOTS);
        } else if (maxLoraRank != 0 || adapterSlots != 0) {
            throw new InvalidSpecException(maxLoraRank != 0 ? "maxLoraRank" : "adapterSlots",
                    "maxLoraRank " + maxLoraRank + " and adapterSlots " + adapterSlots
                            + " must be 0 when lora is false; set lora=true to serve adapters");
        }
        if (requestedBackend.isPresent() && requestedBackend.get().isBlank()) {
            throw new InvalidSpecException("requestedBackend", "requestedBackend must not be blank");
        }
    }

    // equals and hashCode written out: a record's generated ones bootstrap through ObjectMethods on first use,
    // ~10 ms in a fresh JVM, which the first select paid (it keys its cache by spec and device);
    // RecordEqualityTest holds them to every component
    @Override
    public boolean equals(Object o) {
        return o instanceof MoeLayerSpec s && experts == s.experts && topK == s.topK && hiddenSize == s.hiddenSize
                && intermediateSize == s.intermediateSize && hasBias == s.hasBias && lora == s.lora
                && maxLoraRank == s.maxLoraRank && adapterSlots == s.adapterSlots
                && expertParallelSize == s.expertParallelSize && expertParallelRank == s.expertParallelRank
                && maxTokensPerCall == s.maxTokensPerCall && quant.equals(s.quant) && activation.equals(s.activation)
                && activationFormat == s.activationFormat && requestedBackend.equals(s.requestedBackend);
    }

    @Override
    public int hashCode() {
        int h = experts;
        h = 31 * h + topK;
        h = 31 * h + hiddenSize;
        h = 31 * h + intermediateSize;
        h = 31 * h + quant.hashCode();
        h = 31 * h + activation.hashCode();
        h = 31 * h + Boolean.hashCode(hasBias);
        h = 31 * h + activationFormat.hashCode();
        h = 31 * h + Boolean.hashCode(lora);
        h = 31 * h + maxLoraRank;
        h = 31 * h + adapterSlots;
        h = 31 * h + expertParallelSize;
        h = 31 * h + expertParallelRank;
        h = 31 * h + maxTokensPerCall;
        return 31 * h + requestedBackend.hashCode();
    }

    private static void range(String field, int value, int min, int max) {
        if (value < min || value > max) {
            throw new InvalidSpecException(field, field + " " + value + " must be between " + min + " and " + max);
        }
    }

    /** @return experts held by this rank: {@code experts / expertParallelSize} */
    public int localExperts() {
        return experts / expertParallelSize;
    }

    /** @return a builder with gpt-oss-like defaults for everything but the four sizes */
    public static Builder builder() {
        return new Builder();
    }

    /** @return a builder holding this spec's values */
    public Builder toBuilder() {
        return new Builder().experts(experts).topK(topK).hiddenSize(hiddenSize)
                .intermediateSize(intermediateSize).quant(quant).activation(activation).hasBias(hasBias)
                .activationFormat(activationFormat).lora(maxLoraRank, adapterSlots).expertParallel(expertParallelSize, expertParallelRank)
                .maxTokensPerCall(maxTokensPerCall).requestedBackend(requestedBackend.orElse(null));
    }

    /** @return a one-line summary for logs and tables */
    public String describe() {
        return "E=" + experts + " top" + topK + " H=" + hiddenSize + " I=" + intermediateSize + " " + quant
                + " " + activation + (hasBias ? " bias" : "") + (lora ? " lora(r<=" + maxLoraRank + " x" + adapterSlots + ")" : "")
                + (activationFormat == ActivationFormat.BATCHED ? " batched" : "")
                + (expertParallelSize > 1 ? " ep=" + expertParallelRank + "/" + expertParallelSize : "");
    }

    /** Builds a {@link MoeLayerSpec}; the four sizes are required, the rest have defaults. */
    public static final class Builder {
        private int experts = -1;
        private int topK = -1;
        private int hiddenSize = -1;
        private int intermediateSize = -1;
        private QuantScheme quant = QuantScheme.MXFP4_AUTO;
        private Activation activation = Activation.SWIGLU_OAI;
        private boolean hasBias = true;
        private ActivationFormat activationFormat = ActivationFormat.STANDARD;
        private int maxLoraRank;
        private int adapterSlots;
        private int expertParallelSize = 1;
        private int expertParallelRank;
        private int maxTokensPerCall = 8192;
        private String requestedBackend;

        private Builder() {
        }

        /** @param v total experts @return this */
        public Builder experts(int v) { experts = v; return this; }
        /** @param v experts per token @return this */
        public Builder topK(int v) { topK = v; return this; }
        /** @param v hidden size @return this */
        public Builder hiddenSize(int v) { hiddenSize = v; return this; }
        /** @param v intermediate size @return this */
        public Builder intermediateSize(int v) { intermediateSize = v; return this; }
        /** @param v the scheme @return this */
        public Builder quant(QuantScheme v) { quant = v; return this; }
        /** @param v the activation @return this */
        public Builder activation(Activation v) { activation = v; return this; }
        /** @param v whether biases are present @return this */
        public Builder hasBias(boolean v) { hasBias = v; return this; }
        /** @param v the token layout @return this */
        public Builder activationFormat(ActivationFormat v) { activationFormat = v; return this; }
        /**
         * Turns LoRA on with {@link #DEFAULT_LORA_RANK} and {@link #DEFAULT_ADAPTER_SLOTS} (keeping a
         * rank and slot count set before), or off.
         *
         * @param v whether LoRA is on
         * @return this
         */
        public Builder lora(boolean v) {
            if (!v) {
                maxLoraRank = 0;
                adapterSlots = 0;
            } else if (adapterSlots == 0) {
                maxLoraRank = DEFAULT_LORA_RANK;
                adapterSlots = DEFAULT_ADAPTER_SLOTS;
            }
            return this;
        }

        /**
         * Sets the LoRA capacity; {@code (0, 0)} turns LoRA off.
         *
         * @param maxRank the largest adapter rank
         * @param slots resident adapters
         * @return this
         */
        public Builder lora(int maxRank, int slots) { maxLoraRank = maxRank; adapterSlots = slots; return this; }
        /** @param size ranks @param rank this rank @return this */
        public Builder expertParallel(int size, int rank) { expertParallelSize = size; expertParallelRank = rank; return this; }
        /** @param v most tokens per call @return this */
        public Builder maxTokensPerCall(int v) { maxTokensPerCall = v; return this; }
        /** @param id backend id, or null for none @return this */
        public Builder requestedBackend(String id) { requestedBackend = id; return this; }

        /** @return the validated spec */
        public MoeLayerSpec build() {
            if (experts < 0) throw new InvalidSpecException("experts", "experts is required");
            if (topK < 0) throw new InvalidSpecException("topK", "topK is required");
            if (hiddenSize < 0) throw new InvalidSpecException("hiddenSize", "hiddenSize is required");
            if (intermediateSize < 0) throw new InvalidSpecException("intermediateSize", "intermediateSize is required");
            return new MoeLayerSpec(experts, topK, hiddenSize, intermediateSize, quant, activation, hasBias,
                    activationFormat, adapterSlots > 0 || maxLoraRank > 0, maxLoraRank, adapterSlots, expertParallelSize, expertParallelRank, maxTokensPerCall,
                    Optional.ofNullable(requestedBackend));
        }
    }
}
