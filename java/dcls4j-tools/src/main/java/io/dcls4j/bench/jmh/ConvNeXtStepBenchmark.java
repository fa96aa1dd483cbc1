package io.dcls4j.bench.jmh;

import io.dcls4j.Tensor;
import io.dcls4j.nn.ConvNeXtDcls;
import io.dcls4j.nn.CrossEntropyLoss;
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
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * JMH: one ConvNeXt-DCLS training step (zeroGrad, forward, cross-entropy, backward). {@code tiny} is the bench's
 * model (dims 96/192/384/768, depths 3/3/9/3, N=8, 64x64); {@code small} a 2-stage toy, where the Java side
 * weighs more. Run with {@code -prof gc} to see the Java heap allocated per step.
 *
 * <pre>java --enable-native-access=ALL-UNNAMED -cp dcls4j-tools-0.1.0-all.jar org.openjdk.jmh.Main ConvNeXtStepBenchmark -prof gc</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 5)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class ConvNeXtStepBenchmark {
    @Param({"small", "tiny"})
    public String model;

    private Arena arena;
    private ConvNeXtDcls net;
    private CrossEntropyLoss loss;
    private Tensor x;
    private int[] labels;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        boolean tiny = model.equals("tiny");
        net = tiny ? ConvNeXtDcls.builder().depths(3, 3, 9, 3).dims(96, 192, 384, 768).seed(0).build()
                : ConvNeXtDcls.builder().numClasses(10).depths(1, 1).dims(8, 16).dclsKernelSize(5).dclsKernelCount(4)
                        .seed(0).build();
        loss = new CrossEntropyLoss();
        x = Tensor.allocate(arena, 8, 3, tiny ? 64 : 16, tiny ? 64 : 16);
        SplittableRandom random = new SplittableRandom(1);
        for (long i = 0; i < x.elementCount(); i++) {
            x.set(i, (float) random.nextGaussian());
        }
        labels = new int[8];
        for (int i = 0; i < 8; i++) {
            labels[i] = random.nextInt(10);
        }
    }

    @Benchmark
    public float step() {
        net.zeroGrad();
        float l = loss.forward(net.forward(x), labels);
        net.backward(loss.backward());
        return l;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        loss.close();
        net.close();
        arena.close();
    }
}
