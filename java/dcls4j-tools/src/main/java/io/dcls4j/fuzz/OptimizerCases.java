package io.dcls4j.fuzz;

import io.dcls4j.DclsConv;
import io.dcls4j.Parameter;
import io.dcls4j.Tensor;
import io.dcls4j.optim.AdamW;
import io.dcls4j.optim.Optimizer;
import io.dcls4j.optim.ParamGroup;
import io.dcls4j.optim.SGD;

import java.util.List;
import java.util.SplittableRandom;

/** SGD and AdamW: valid steps against the float64 formulas (PyTorch's), bad settings and misuse. */
final class OptimizerCases {
    private OptimizerCases() {}

    static FuzzCase make(long seed, SplittableRandom r) {
        LayerCases.Config c = LayerCases.valid(r);
        boolean adam = r.nextBoolean();
        double lr = r.nextDouble(1e-4, 0.5);
        double wd = r.nextBoolean() ? 0 : r.nextDouble(0, 0.2);
        double momentum = r.nextBoolean() ? 0 : r.nextDouble(0, 0.99);
        double beta1 = r.nextDouble(0, 0.99);
        double beta2 = r.nextDouble(0.5, 0.9999);
        boolean amsgrad = r.nextBoolean();
        int steps = 1 + r.nextInt(3);
        int misuse = r.nextInt(3) == 0 ? r.nextInt(6) : -1;
        double[] badValues = {Double.NaN, -1, Double.POSITIVE_INFINITY, -1e-9};
        double bad = badValues[r.nextInt(badValues.length)];
        String d = (misuse >= 0 ? "misuse #" + misuse + " (" + bad + ") of " : "") + (adam ? "AdamW" : "SGD")
                + " lr=" + lr + " wd=" + wd + (adam ? " betas=" + beta1 + "," + beta2 + " amsgrad=" + amsgrad
                : " momentum=" + momentum) + " x" + steps + " on " + c;
        return new FuzzCase(seed, "optimizer", d, misuse >= 0 ? FuzzCase.Expect.INVALID : FuzzCase.Expect.VALID, () -> {
            try (DclsConv conv = c.builder(seed).build()) {
                List<Parameter> params = conv.parameters();
                switch (misuse) {
                    case -1 -> { }
                    case 0 -> SGD.builder().lr(bad).params(params).build().close();
                    case 1 -> AdamW.builder().betas(bad, 0.9).params(params).build().close();
                    case 2 -> AdamW.builder().build().close(); // no parameters
                    case 3 -> SGD.builder().params(params).params(params).build().close();
                    case 4 -> {
                        Optimizer o = SGD.builder().params(params).build();
                        o.close();
                        o.step();
                    }
                    default -> {
                        Optimizer o = AdamW.builder().groups(ParamGroup.dcls(5, conv)).build();
                        conv.close();
                        o.step();
                    }
                }
                int n = params.size();
                double[][] value = new double[n][];
                double[][] m = new double[n][];
                double[][] v = new double[n][];
                double[][] vmax = new double[n][];
                try (Optimizer o = adam
                        ? AdamW.builder().lr(lr).weightDecay(wd).betas(beta1, beta2).amsgrad(amsgrad).params(params).build()
                        : SGD.builder().lr(lr).weightDecay(wd).momentum(momentum).params(params).build()) {
                    for (int i = 0; i < n; i++) {
                        value[i] = LayerCases.toDouble(params.get(i).value().toFloatArray());
                        m[i] = new double[value[i].length];
                        v[i] = new double[value[i].length];
                        vmax[i] = new double[value[i].length];
                    }
                    for (int t = 1; t <= steps; t++) {
                        for (int i = 0; i < n; i++) {
                            Tensor g = params.get(i).grad();
                            float[] gv = LayerCases.random(r, (int) g.elementCount());
                            g.copyFrom(gv);
                            double[] p = value[i];
                            for (int j = 0; j < p.length; j++) {
                                double gj = gv[j];
                                if (adam) {
                                    p[j] *= 1 - lr * wd;
                                    m[i][j] = beta1 * m[i][j] + (1 - beta1) * gj;
                                    v[i][j] = beta2 * v[i][j] + (1 - beta2) * gj * gj;
                                    vmax[i][j] = Math.max(vmax[i][j], v[i][j]);
                                    double vh = amsgrad ? vmax[i][j] : v[i][j];
                                    double bc1 = 1 - Math.pow(beta1, t);
                                    double bc2 = 1 - Math.pow(beta2, t);
                                    p[j] -= lr / bc1 * m[i][j] / (Math.sqrt(vh) / Math.sqrt(bc2) + 1e-8);
                                } else {
                                    double dj = gj + wd * p[j];
                                    if (momentum != 0) {
                                        m[i][j] = t == 1 ? dj : momentum * m[i][j] + dj;
                                        dj = m[i][j];
                                    }
                                    p[j] -= lr * dj;
                                }
                            }
                        }
                        o.step();
                    }
                    for (int i = 0; i < n; i++) {
                        Wrong.check(params.get(i).name() + " after " + steps + " steps", value[i],
                                params.get(i).value().toFloatArray());
                    }
                }
            }
        });
    }
}
