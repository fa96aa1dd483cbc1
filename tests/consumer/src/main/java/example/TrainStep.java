package example;

import io.dcls4j.DclsConv;
import io.dcls4j.Interpolation;
import io.dcls4j.Tensor;
import io.dcls4j.optim.AdamW;
import io.dcls4j.optim.ParamGroup;

import java.lang.foreign.Arena;

/**
 * Ten training steps of one DCLS layer against a fixed target, the way the README shows it. Prints the loss
 * before and after, whether it ran as a named module, and exits 1 unless the loss went down.
 */
public final class TrainStep {
    private TrainStep() {}

    public static void main(String[] args) {
        try (Arena arena = Arena.ofConfined();
             DclsConv conv = DclsConv.builder(4, 4).groups(4).kernelCount(3).dilatedKernelSize(7, 7).padding(3)
                     .interpolation(Interpolation.GAUSSIAN).seed(1).build();
             AdamW opt = AdamW.builder().lr(0.05).group(ParamGroup.of(conv.parameters())).build()) {
            Tensor x = Tensor.allocate(arena, 2, 4, 12, 12);
            float[] xs = new float[(int) x.elementCount()];
            for (int i = 0; i < xs.length; i++) {
                xs[i] = (float) Math.sin(0.37 * i);
            }
            x.copyFrom(xs);
            Tensor gradY = null;
            double first = Double.NaN;
            double last = Double.NaN;
            for (int step = 0; step < 10; step++) {
                opt.zeroGrad();
                Tensor y = conv.forward(x);
                float[] ys = y.toFloatArray();
                double loss = 0;
                float[] g = new float[ys.length];
                for (int i = 0; i < ys.length; i++) {   // loss = mean((y - 1)^2)
                    double d = ys[i] - 1.0;
                    loss += d * d / ys.length;
                    g[i] = (float) (2 * d / ys.length);
                }
                if (gradY == null) {
                    gradY = Tensor.allocate(arena, y.shape());
                }
                gradY.copyFrom(g);
                conv.backward(gradY);
                opt.step();
                conv.clampPositions();
                if (step == 0) {
                    first = loss;
                }
                last = loss;
            }
            boolean named = TrainStep.class.getModule().isNamed() && DclsConv.class.getModule().isNamed();
            System.out.printf("loss %.6f -> %.6f, module path: %s (%s)%n", first, last, named,
                    DclsConv.class.getModule());
            System.exit(last < first ? 0 : 1);
        }
    }
}
