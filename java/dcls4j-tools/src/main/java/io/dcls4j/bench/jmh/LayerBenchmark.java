package io.dcls4j.bench.jmh;

import io.dcls4j.DclsConv;
import io.dcls4j.Interpolation;
import io.dcls4j.Tensor;
import io.dcls4j.bench.BenchCase;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;

/**
 * JMH: one training step (zeroGrad, forward, backward) of the native layer. {@code tiny} is a
 * 1-channel, 1-tap layer on a 1x4x4 input, so its time is the Java-side overhead plus the
 * smallest possible native work; run with {@code -prof gc} to see the allocation per step.
 * The other cases are the bench suite's shapes.
 *
 * <pre>java --enable-native-access=ALL-UNNAMED -cp java/dcls4j-tools/target/dcls4j-tools-0.1.0-all.jar org.openjdk.jmh.Main LayerBenchmark -prof gc</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class LayerBenchmark {

    @Param({"tiny"})
    public String shape;

    private Arena arena;
    private DclsConv conv;
    private Tensor x;
    private Tensor gradY;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        long[] inputShape;
        if (shape.equals("tiny")) {
            conv = DclsConv.builder(1, 1).kernelCount(1).dilatedKernelSize(1, 1)
                    .interpolation(Interpolation.BILINEAR).seed(0).build();
            inputShape = new long[] {1, 1, 4, 4};
        } else {
            BenchCase c = BenchCase.named(shape);
            conv = DclsConv.builder(c.inChannels(), c.outChannels()).groups(c.groups()).kernelCount(c.kernelCount())
                    .dilatedKernelSize(c.dilatedKernelSize()).padding(c.padding()).interpolation(c.interpolation())
                    .seed(0).build();
            inputShape = c.inputShape();
        }
        x = Tensor.allocate(arena, inputShape).fill(0.5f);
        gradY = Tensor.allocate(arena, conv.outputShape(inputShape)).fill(0.25f);
    }

    @Benchmark
    public Tensor trainingStep() {
        conv.zeroGrad();
        conv.forward(x);
        return conv.backward(gradY);
    }

    @Benchmark
    public Tensor forward() {
        return conv.forward(x);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        conv.close();
        arena.close();
    }
}
