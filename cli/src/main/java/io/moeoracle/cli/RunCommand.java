package io.moeoracle.cli;

import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.core.select.Selection;
import io.moeoracle.core.weights.GptOssLayerLoader;
import io.moeoracle.core.weights.SafetensorsCheckpoint;
import io.moeoracle.ep.EpStrategy;
import io.moeoracle.reference.RandomMoe;
import io.moeoracle.reference.ReferenceMoe;
import io.moeoracle.reference.RelativeError;
import io.moeoracle.reference.RouterLogits;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code moe-oracle run}: chooses a backend, prepares the weights (a checkpoint's layer or random
 * ones), runs the layer on fresh random tokens and checks it against the float64 reference.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Chooses a backend, prepares weights, runs the layer and checks it against the reference.")
final class RunCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @ParentCommand
    MoeOracleCli root;

    @Mixin
    SpecOptions layer;

    @Mixin
    ExpertParallelOptions expertParallel;

    @Option(names = "--weights", paramLabel = "PATH",
            description = "a safetensors file or checkpoint folder in the gpt-oss layout (default: random weights)")
    Path weights;

    @Option(names = "--layer", paramLabel = "N", defaultValue = "0", description = "layer of the checkpoint; default ${DEFAULT-VALUE}")
    int layerIndex;

    @Option(names = "--tokens", paramLabel = "T", defaultValue = "8", description = "tokens per forward; default ${DEFAULT-VALUE}")
    int tokens;

    @Option(names = "--iterations", paramLabel = "N", defaultValue = "10", description = "timed forwards; default ${DEFAULT-VALUE}")
    int iterations;

    @Option(names = "--device", paramLabel = "DEV", defaultValue = "auto",
            description = "auto, a probed device (cpu, cuda:0, ...); default ${DEFAULT-VALUE}")
    String device;

    @Option(names = "--backend", paramLabel = "ID", description = "insist on this backend")
    String backend;

    /** Where the routing logits of {@code run} come from. */
    enum RoutingSource {
        /** the checkpoint's router (the default with {@code --weights}) */
        router,
        /** random logits, as a host with its own router would supply them (the default without {@code --weights}) */
        random
    }

    @Option(names = "--routing", paramLabel = "SRC",
            description = "router (the checkpoint's own router; default with --weights) or random (random logits, as a "
                    + "host's own router would give; needed for a checkpoint without router weights)")
    RoutingSource routingSource;

    @Option(names = "--seed", paramLabel = "S", description = "random seed (default: fresh each run)")
    Long seed;

    @Option(names = "--no-check", description = "skip the comparison with the float64 reference")
    boolean noCheck;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (layer.model == null && layer.config == null && layer.experts == null) {
            layer.model = "gpt-oss-20b";
        }
        if (tokens < 0 || tokens > 1 << 20) {
            throw new CliErrors.UsageException("--tokens " + tokens + " must be between 0 and 1048576");
        }
        if (iterations < 1) {
            throw new CliErrors.UsageException("--iterations " + iterations + " must be at least 1");
        }
        RoutingSource routingFrom = routingSource != null ? routingSource
                : weights != null ? RoutingSource.router : RoutingSource.random;
        if (routingFrom == RoutingSource.router && weights == null) {
            throw new CliErrors.UsageException("--routing router needs a checkpoint (--weights PATH); "
                    + "random weights have no router");
        }
        MoeLayerSpec asked = layer.toSpec(backend);
        MoeLayerSpec s = asked.maxTokensPerCall() < tokens ? asked.toBuilder().maxTokensPerCall(tokens).build() : asked;
        EpStrategy epStrategy = expertParallel.strategy();
        if (expertParallel.enabled()) {
            expertParallel.checkAgainst(layer, device);
            long runSeed = seed != null ? seed : System.nanoTime();
            return new ExpertParallelRun(root, out, expertParallel.devices, epStrategy).run(s, Optional.ofNullable(weights),
                    layerIndex, routingFrom == RoutingSource.router, tokens, iterations, runSeed, !noCheck);
        }
        Selection selection = KernelChoice.onRealDevice(root, s, device, "run");
        out.print(root.table().render(selection.explanation()));
        out.println();
        out.flush();

        long runSeed = seed != null ? seed : System.nanoTime();
        try (Arena arena = Arena.ofShared(); MoeKernel kernel = root.createKernel(selection)) {
            MoeWeights w;
            GptOssLayerLoader.Layer loaded = null;
            try (Progress _ = new Progress(out, weights != null ? "mapping " + weights : "generating random weights")) {
                if (weights != null) {
                    loaded = GptOssLayerLoader.load(SafetensorsCheckpoint.open(weights, arena), s, layerIndex, arena);
                    w = loaded.weights();
                    if (routingFrom == RoutingSource.router && !loaded.hasRouter()) {
                        throw new CliErrors.UsageException("the checkpoint has no router: tensor '" + loaded.routerName()
                                + "' is missing from " + loaded.source() + "; pass --routing random to route with "
                                + "random logits (as a host with its own router would)");
                    }
                } else {
                    w = RandomMoe.weights(s, runSeed, arena);
                }
            }
            try (Progress progress = new Progress(out, "preparing weights for " + kernel.providerId())) {
                kernel.prepare(w, progress);
            }
            HostTensor hidden = RandomMoe.hidden(tokens, s.hiddenSize(), DType.F32, runSeed + 1, arena);
            // the checkpoint's router picks the experts (router() names the tensor when it is missing), or random logits
            Routing routing = Routing.logits(routingFrom == RoutingSource.router
                    ? RouterLogits.compute(hidden, loaded.router(), loaded.routerBias(), arena)
                    : RandomMoe.routerLogits(tokens, s.experts(), runSeed + 2, arena));
            HostTensor outT = HostTensor.allocate(arena, DType.F32, tokens, s.hiddenSize());
            kernel.forward(hidden, routing, outT); // warm-up
            kernel.synchronize();
            long[] ns = new long[iterations];
            for (int i = 0; i < iterations; i++) {
                long t0 = System.nanoTime();
                kernel.forward(hidden, routing, outT);
                kernel.synchronize();
                ns[i] = System.nanoTime() - t0;
            }
            Arrays.sort(ns);
            double medianUs = ns[iterations / 2] / 1e3;
            out.printf("tokens %d, %d forwards: median %.1f us, min %.1f us (host tensors in and out, seed %d)%n",
                    tokens, iterations, medianUs, ns[0] / 1e3, runSeed);
            if (!noCheck && tokens > 0) {
                HostTensor ref = HostTensor.allocate(arena, DType.F32, tokens, s.hiddenSize());
                ReferenceMoe.forward(s, w, hidden, routing, ref);
                double err = RelativeError.l2(outT, ref);
                out.printf("relative L2 error vs float64 reference: %.3e%n", err);
                if (!(err <= 1e-2)) {
                    out.flush();
                    return 1;
                }
            }
        }
        out.flush();
        return 0;
    }
}
