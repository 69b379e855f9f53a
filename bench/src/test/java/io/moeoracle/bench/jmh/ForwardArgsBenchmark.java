package io.moeoracle.bench.jmh;

import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.ForwardArgs;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.core.weights.ModelConfig;
import io.moeoracle.reference.RandomMoe;
import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/** {@code ForwardArgs.check}, the validation every forward call pays, for a gpt-oss-20b layer at T = 64. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ForwardArgsBenchmark {
    private Arena arena;
    private MoeLayerSpec spec;
    private HostTensor hidden;
    private HostTensor out;
    private Routing.TopK routing;

    @Setup
    public void setUp() {
        arena = Arena.ofShared();
        spec = ModelConfig.preset("gpt-oss-20b");
        hidden = RandomMoe.hidden(64, spec.hiddenSize(), DType.BF16, 1, arena);
        out = HostTensor.allocate(arena, DType.BF16, 64, spec.hiddenSize());
        routing = RandomMoe.topK(spec, 64, 2, arena);
    }

    @TearDown
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public int check() {
        return ForwardArgs.check(spec, hidden, routing, out);
    }

    @Benchmark
    public void checkIds() {
        ForwardArgs.checkIds(spec, routing);
    }
}
