package io.moeoracle.cli;

import io.moeoracle.ep.EpStrategy;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Option;

/** The options of expert parallelism, shared by run and bench. */
final class ExpertParallelOptions {
    @Option(names = "--devices", split = ",", paramLabel = "DEV,DEV,...",
            description = "shard the layer's experts over these GPUs, one rank each, tokens moved over NCCL (expert"
                    + " parallelism), e.g. cuda:0,cuda:1; --tokens is then per GPU")
    List<String> devices;

    @Option(names = "--ep-strategy", paramLabel = "S",
            description = "with --devices: all-gather, all-to-all or auto (run: the layer's rule by token count;"
                    + " bench: both, one after the other); default auto")
    String strategy;

    /** @return whether --devices was given */
    boolean enabled() {
        return devices != null && !devices.isEmpty();
    }

    /**
     * @return the strategy asked for
     * @throws CliErrors.UsageException for an unknown name, or a strategy without --devices
     */
    EpStrategy strategy() {
        if (strategy == null) {
            return EpStrategy.AUTO;
        }
        if (!enabled()) {
            throw new CliErrors.UsageException("--ep-strategy needs --devices (the GPUs to shard the experts over)");
        }
        return parse(strategy);
    }

    static EpStrategy parse(String s) {
        return switch (s.strip().toLowerCase(Locale.ROOT).replace('_', '-')) {
            case "all-gather", "allgather", "ag" -> EpStrategy.ALL_GATHER;
            case "all-to-all", "alltoall", "a2a" -> EpStrategy.ALL_TO_ALL;
            case "auto" -> EpStrategy.AUTO;
            default -> throw new CliErrors.UsageException("--ep-strategy '" + s + "' is unknown; use all-gather,"
                    + " all-to-all or auto");
        };
    }

    /** @throws CliErrors.UsageException when the spec options also set expert parallelism */
    void checkAgainst(SpecOptions layer, String device) {
        if (layer.epSize != null || layer.epRank != null) {
            throw new CliErrors.UsageException("--devices makes the ranks (one per GPU); leave out --ep-size and --ep-rank");
        }
        if (layer.batched) {
            throw new CliErrors.UsageException("--devices takes the layer's standard format; the all-to-all strategy makes"
                    + " the batched format itself: leave out --batched");
        }
        if (!"auto".equals(device)) {
            throw new CliErrors.UsageException("--device and --devices both name GPUs; give --devices alone");
        }
    }
}
