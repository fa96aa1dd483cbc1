package io.dcls4j.fuzz;

import io.dcls4j.Interpolation;
import io.dcls4j.PaddingMode;
import io.dcls4j.Tensor;
import io.dcls4j.ops.Convolution;
import io.dcls4j.ops.KernelConstruction;
import io.dcls4j.ops.KernelWindow;
import io.dcls4j.ops.ConstructConfig;
import io.dcls4j.ops.ConvConfig;
import io.dcls4j.reference.ReferenceConstruct;
import io.dcls4j.reference.ReferenceConv;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;

import static io.dcls4j.fuzz.LayerCases.random;
import static io.dcls4j.fuzz.LayerCases.toDouble;

/** The functional ops, Convolution and KernelConstruction, called directly. */
final class OpsCases {
    private OpsCases() {}

    static FuzzCase make(long seed, SplittableRandom r) {
        LayerCases.Config c = LayerCases.valid(r);
        int[] input = java.util.Arrays.stream(c.input()).mapToInt(v -> (int) v).toArray();
        ConvConfig vc = new ConvConfig((int) c.batch(), c.in(), c.out(), c.groups(), input, c.dks(), c.stride(),
                c.padding(), c.mode());
        ConstructConfig cc = new ConstructConfig(c.interpolation(), c.out(), c.in() / c.groups(), c.kernelCount(),
                c.dks());
        int misuse = r.nextInt(3) == 0 ? r.nextInt(9) : -1;
        String d = (misuse >= 0 ? "misuse #" + misuse + " of " : "") + vc + " / " + cc;
        return new FuzzCase(seed, "ops", d, misuse >= 0 ? FuzzCase.Expect.INVALID : FuzzCase.Expect.VALID, () -> {
            try (Arena arena = Arena.ofConfined(); Convolution conv = new Convolution(vc)) {
                KernelConstruction k = new KernelConstruction(cc);
                Tensor w = Tensor.allocate(arena, k.weightShape()).copyFrom(random(r, (int) count(k.weightShape())));
                Tensor p = Tensor.allocate(arena, k.positionShape()).copyFrom(random(r, (int) count(k.positionShape())));
                Tensor s = c.interpolation().learnsSigma()
                        ? Tensor.allocate(arena, k.positionShape()).copyFrom(random(r, (int) count(k.positionShape())))
                        : null;
                Tensor kernel = Tensor.allocate(arena, k.kernelShape());
                Tensor x = Tensor.allocate(arena, conv.inputShape()).copyFrom(random(r, (int) count(conv.inputShape())));
                Tensor y = Tensor.allocate(arena, conv.outputShape());
                switch (misuse) {
                    case -1 -> { }
                    case 0 -> conv.forward(x, kernel, null, Tensor.allocate(arena, grow(conv.outputShape(), r)));
                    case 1 -> conv.forward(Tensor.allocate(arena, grow(conv.inputShape(), r)), kernel, null, y);
                    case 2 -> conv.backwardData(y, Tensor.allocate(arena, grow(k.kernelShape(), r)), x);
                    case 3 -> conv.forward(x, null, null, y);
                    case 4 -> {
                        conv.close();
                        conv.forward(x, kernel, null, y);
                    }
                    case 5 -> {
                        KernelWindow win = new KernelWindow(c.dks());
                        win.set(0, c.dks()[0], c.dks()[0] + 1 + r.nextInt(3));
                        conv.setKernelWindow(win);
                    }
                    case 6 -> k.forward(w, p, s, Tensor.allocate(arena, grow(k.kernelShape(), r)));
                    case 7 -> k.forward(w, Tensor.allocate(arena, grow(k.positionShape(), r)), s, kernel);
                    default -> {
                        Arena closed = Arena.ofConfined();
                        Tensor dead = Tensor.allocate(closed, conv.inputShape());
                        closed.close();
                        conv.forward(dead, kernel, null, y);
                    }
                }
                k.forward(w, p, s, kernel);
                double[] kd = ReferenceConstruct.forward(cc, toDouble(w.toFloatArray()), toDouble(p.toFloatArray()),
                        s == null ? null : toDouble(s.toFloatArray()));
                Wrong.check("kernel", kd, kernel.toFloatArray());
                double[] kn = toDouble(kernel.toFloatArray());
                conv.forward(x, kernel, null, y);
                Wrong.check("y", ReferenceConv.forward(vc, toDouble(x.toFloatArray()), kn, null), y.toFloatArray());
                Tensor gx = Tensor.allocate(arena, conv.inputShape());
                conv.backwardData(y, kernel, gx);
                Wrong.check("grad_x", ReferenceConv.backwardData(vc, toDouble(y.toFloatArray()), kn), gx.toFloatArray());
                Tensor gk = Tensor.allocate(arena, conv.kernelShape());
                conv.backwardWeights(x, y, gk, null, false);
                Wrong.check("grad_kernel", ReferenceConv.backwardWeights(vc, toDouble(x.toFloatArray()),
                        toDouble(y.toFloatArray())), gk.toFloatArray());
            }
        });
    }

    private static long[] grow(long[] shape, SplittableRandom r) {
        long[] s = shape.clone();
        s[r.nextInt(s.length)] += 1 + r.nextInt(2);
        return s;
    }

    static long count(long[] shape) {
        return LayerCases.product(shape);
    }

    static Interpolation any(SplittableRandom r) {
        return Interpolation.values()[r.nextInt(4)];
    }

    static PaddingMode anyMode(SplittableRandom r) {
        return PaddingMode.values()[r.nextInt(4)];
    }
}
