package io.dcls4j.optim;

import io.dcls4j.DclsConv;
import io.dcls4j.Interpolation;
import io.dcls4j.Parameter;
import io.dcls4j.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.management.ManagementFactory;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every optimizer against steps computed by hand (PyTorch's formulas), groups, clamping, allocation. */
class OptimizerTest {
    private static final double TOL = 1e-6;
    private Arena arena;

    @BeforeEach
    void open() {
        arena = Arena.ofShared();
    }

    @AfterEach
    void close() {
        arena.close();
    }

    private Parameter param(String name, float... values) {
        Parameter p = new Parameter(name, Tensor.allocate(arena, values.length), Tensor.allocate(arena, values.length));
        p.value().copyFrom(values);
        return p;
    }

    private static void grad(Parameter p, float... g) {
        p.grad().copyFrom(g);
    }

    private static void assertValues(Parameter p, double... expected) {
        float[] v = p.value().toFloatArray();
        assertEquals(expected.length, v.length);
        for (int i = 0; i < v.length; i++) {
            assertEquals(expected[i], v[i], TOL * Math.max(1, Math.abs(expected[i])), p.name() + "[" + i + "]");
        }
    }

    // ------------------------------------------------------------------------------------------ SGD

    @Test
    void sgdPlain() {
        Parameter p = param("p", 1f, -2f);
        try (SGD opt = SGD.builder().lr(0.1).params(p).build()) {
            grad(p, 0.5f, 0.25f);
            opt.step();
            assertValues(p, 1 - 0.1 * 0.5, -2 - 0.1 * 0.25);            // 0.95, -2.025
            grad(p, -1f, 2f);
            opt.step();
            assertValues(p, 0.95 + 0.1, -2.025 - 0.2);
            assertEquals(2, opt.steps());
            assertEquals(List.of(), opt.stateNames());
        }
    }

    @Test
    void sgdWeightDecayIsAddedToTheGradient() {
        Parameter p = param("p", 1f, -2f);
        try (SGD opt = SGD.builder().lr(0.1).weightDecay(0.1).params(p).build()) {
            grad(p, 0.5f, 0.25f);
            opt.step();
            // d = g + 0.1 p = (0.6, 0.05)
            assertValues(p, 1 - 0.06, -2 - 0.005);
        }
    }

    @Test
    void sgdMomentum() {
        Parameter p = param("p", 1f, -2f);
        try (SGD opt = SGD.builder().lr(0.1).momentum(0.9).params(p).build()) {
            grad(p, 0.5f, 0.25f);
            opt.step();                                 // buf = g = (0.5, 0.25)
            assertValues(p, 0.95, -2.025);
            assertArrayEquals(new float[] {0.5f, 0.25f}, opt.state(p, "momentum_buffer").toFloatArray());
            grad(p, 0.1f, -0.2f);
            opt.step();                                 // buf = 0.9 buf + g = (0.55, 0.025)
            assertValues(p, 0.95 - 0.055, -2.025 - 0.0025);
        }
    }

    @Test
    void sgdMomentumWithDampening() {
        Parameter p = param("p", 1f);
        try (SGD opt = SGD.builder().lr(0.1).momentum(0.9).dampening(0.5).params(p).build()) {
            grad(p, 0.5f);
            opt.step();                                 // first step: buf = g, no dampening (PyTorch)
            assertValues(p, 0.95);
            grad(p, 0.1f);
            opt.step();                                 // buf = 0.9 * 0.5 + 0.5 * 0.1 = 0.5
            assertValues(p, 0.95 - 0.05);
        }
    }

    @Test
    void sgdNesterov() {
        Parameter p = param("p", 1f, -2f);
        try (SGD opt = SGD.builder().lr(0.1).momentum(0.9).nesterov(true).params(p).build()) {
            grad(p, 0.5f, 0.25f);
            opt.step();                                 // buf = (0.5, 0.25); d = g + 0.9 buf = (0.95, 0.475)
            assertValues(p, 1 - 0.095, -2 - 0.0475);
            grad(p, 0.1f, -0.2f);
            opt.step();                                 // buf = (0.55, 0.025); d = (0.595, -0.1775)
            assertValues(p, 0.905 - 0.0595, -2.0475 + 0.01775);
        }
    }

    @Test
    void sgdMomentumAndWeightDecay() {
        Parameter p = param("p", 2f);
        try (SGD opt = SGD.builder().lr(0.5).momentum(0.5).weightDecay(0.25).params(p).build()) {
            grad(p, 1f);
            opt.step();                                 // d = 1 + 0.5 = 1.5; buf = 1.5; p = 2 - 0.75
            assertValues(p, 1.25);
            grad(p, 1f);
            opt.step();                                 // d = 1 + 0.3125; buf = 0.75 + 1.3125 = 2.0625
            assertValues(p, 1.25 - 0.5 * 2.0625);
        }
    }

    @Test
    void nesterovNeedsMomentumAndNoDampening() {
        Parameter p = param("p", 1f);
        assertThrows(IllegalArgumentException.class, () -> SGD.builder().nesterov(true).params(p).build());
        assertThrows(IllegalArgumentException.class,
                () -> SGD.builder().momentum(0.9).dampening(0.1).nesterov(true).params(p).build());
    }

    // ------------------------------------------------------------------------------------------ AdamW

    @Test
    void adamWThreeStepsByHand() {
        Parameter p = param("p", 1f, -0.5f);
        double lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.1;
        try (AdamW opt = AdamW.builder().lr(lr).betas(b1, b2).eps(eps).weightDecay(wd).params(p).build()) {
            double[] x = {1, -0.5};
            double[] m = {0, 0};
            double[] v = {0, 0};
            double[][] grads = {{0.5, -1}, {-0.25, 2}, {0.125, 0.5}};
            for (int t = 1; t <= 3; t++) {
                grad(p, (float) grads[t - 1][0], (float) grads[t - 1][1]);
                opt.step();
                for (int i = 0; i < 2; i++) {
                    double g = grads[t - 1][i];
                    x[i] *= 1 - lr * wd;                                  // decoupled weight decay
                    m[i] = b1 * m[i] + (1 - b1) * g;
                    v[i] = b2 * v[i] + (1 - b2) * g * g;
                    double bc1 = 1 - Math.pow(b1, t);
                    double bc2 = 1 - Math.pow(b2, t);
                    x[i] -= lr / bc1 * m[i] / (Math.sqrt(v[i]) / Math.sqrt(bc2) + eps);
                }
                assertValues(p, x);
                assertEquals(m[0], opt.state(p, "exp_avg").get(0), 1e-7);
                assertEquals(v[1], opt.state(p, "exp_avg_sq").get(1), 1e-7);
            }
        }
    }

    @Test
    void adamWFirstStepNumbers() {
        // Step 1 by hand: p = 1 * (1 - 0.1 * 0.1) = 0.99; m = 0.05, v = 0.00025; mhat = 0.5, vhat = 0.25;
        // p = 0.99 - 0.1 * 0.5 / (0.5 + 1e-8) = 0.89 (less 1e-9)
        Parameter p = param("p", 1f);
        try (AdamW opt = AdamW.builder().lr(0.1).weightDecay(0.1).params(p).build()) {
            grad(p, 0.5f);
            opt.step();
            assertValues(p, 0.89);
            // Step 2, g = -0.25: p = 0.89 * 0.99 = 0.8811; m = 0.045 - 0.025 = 0.02;
            // v = 0.999 * 0.00025 + 0.001 * 0.0625 = 0.00031225; bc1 = 0.19, bc2 = 0.001999
            grad(p, -0.25f);
            opt.step();
            double expected = 0.8811 - 0.1 / 0.19 * 0.02 / (Math.sqrt(0.00031225) / Math.sqrt(0.001999) + 1e-8);
            assertValues(p, expected);
        }
    }

    @Test
    void adamWAmsgradKeepsTheMaximum() {
        Parameter p = param("p", 0f);
        double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
        try (AdamW opt = AdamW.builder().lr(lr).weightDecay(0).amsgrad(true).params(p).build()) {
            assertEquals(List.of("exp_avg", "exp_avg_sq", "max_exp_avg_sq"), opt.stateNames());
            double x = 0, m = 0, v = 0, vmax = 0;
            double[] grads = {2, 0.1, 0.1};
            for (int t = 1; t <= 3; t++) {
                grad(p, (float) grads[t - 1]);
                opt.step();
                m = b1 * m + (1 - b1) * grads[t - 1];
                v = b2 * v + (1 - b2) * grads[t - 1] * grads[t - 1];
                vmax = Math.max(vmax, v);
                x -= lr / (1 - Math.pow(b1, t)) * m / (Math.sqrt(vmax) / Math.sqrt(1 - Math.pow(b2, t)) + eps);
                assertValues(p, x);
            }
            assertEquals(vmax, opt.state(p, "max_exp_avg_sq").get(0), 1e-9);
        }
    }

    // ------------------------------------------------------------------------------------------ groups, schedules

    @Test
    void groupsScaleTheLearningRateAndOverrideWeightDecay() {
        Parameter a = param("a", 1f);
        Parameter b = param("b", 1f);
        try (SGD opt = SGD.builder().lr(0.1).weightDecay(0.5)
                .group(ParamGroup.of(a))
                .group(ParamGroup.of(b).lrScale(5).weightDecay(0))
                .build()) {
            grad(a, 1f);
            grad(b, 1f);
            opt.step();
            assertValues(a, 1 - 0.1 * (1 + 0.5));
            assertValues(b, 1 - 0.5 * 1);
            assertEquals(5, opt.lrScale(b));
            assertEquals(0.5, opt.weightDecay(a));
            assertEquals(0, opt.weightDecay(b));
        }
    }

    @Test
    void scheduleSetsTheLearningRateBeforeEachStep() {
        Parameter p = param("p", 0f);
        LrSchedule s = LrSchedule.stepDecay(1, 2, 0.5);
        try (SGD opt = SGD.builder().schedule(s).params(p).build()) {
            double expected = 0;
            for (int step = 0; step < 6; step++) {
                grad(p, -1f);                           // p += lr
                opt.step();
                expected += s.lr(step);
                assertEquals(s.lr(step), opt.lr(), 0);
                assertValues(p, expected);
            }
            assertValues(p, 1 + 1 + 0.5 + 0.5 + 0.25 + 0.25);
        }
    }

    @Test
    void cosineWithWarmup() {
        LrSchedule s = LrSchedule.cosine(1, 4, 12, 0.1);
        assertEquals(0.25, s.lr(0), 1e-12);
        assertEquals(0.75, s.lr(2), 1e-12);
        assertEquals(1.0, s.lr(3), 1e-12);
        assertEquals(1.0, s.lr(4), 1e-12);                    // cosine starts at the base
        assertEquals(0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI / 2)), s.lr(8), 1e-12);
        assertEquals(0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * 7 / 8)), s.lr(11), 1e-12);
        assertEquals(0.1, s.lr(12), 1e-12);
        assertEquals(0.1, s.lr(1000), 1e-12);
        LrSchedule noWarmup = LrSchedule.cosine(2, 0, 10, 0);
        assertEquals(2, noWarmup.lr(0), 1e-12);
        assertEquals(1, noWarmup.lr(5), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.cosine(1, 5, 4, 0));
    }

    @Test
    void stepDecay() {
        LrSchedule s = LrSchedule.stepDecay(0.8, 3, 0.1);
        assertEquals(0.8, s.lr(0), 1e-15);
        assertEquals(0.8, s.lr(2), 1e-15);
        assertEquals(0.08, s.lr(3), 1e-15);
        assertEquals(0.008, s.lr(8), 1e-15);
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.stepDecay(1, 0, 0.5));
        assertEquals(0.3, LrSchedule.constant(0.3).lr(99));
    }

    @Test
    void dclsGroupsSplitWeightsFromPositions() {
        try (DclsConv conv = DclsConv.builder(2, 2).kernelCount(2).dilatedKernelSize(5).seed(1).build()) {
            List<ParamGroup> groups = ParamGroup.dcls(5, conv);
            assertEquals(List.of(conv.weight(), conv.bias()), groups.get(0).params());
            assertEquals(List.of(conv.positions(), conv.sigma()), groups.get(1).params());
            assertEquals(5, groups.get(1).lrScale());
            assertEquals(0.0, groups.get(1).weightDecay());
            try (AdamW opt = AdamW.builder().weightDecay(0.05).groups(groups).build()) {
                assertEquals(0.05, opt.weightDecay(conv.weight()));
                assertEquals(0, opt.weightDecay(conv.positions()));
                assertEquals(5, opt.lrScale(conv.sigma()));
            }
            conv.freezeSigma(true);
            assertEquals(List.of(conv.positions()), ParamGroup.positionsOf(conv).params());
        }
    }

    @Test
    void aParameterMayBeInOneGroupOnly() {
        Parameter p = param("p", 1f);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SGD.builder().params(p).params(p).build());
        assertTrue(e.getMessage().contains("more than one group"), e.getMessage());
        assertEquals(1, ParamGroup.of(p, p).params().size());
        assertThrows(IllegalArgumentException.class, () -> SGD.builder().build());
        assertThrows(IllegalArgumentException.class, () -> ParamGroup.of(p).lrScale(-1));
    }

    @Test
    void clampsRegisteredLayersAfterEachStep() {
        try (DclsConv conv = DclsConv.builder(1, 1).kernelCount(1).dilatedKernelSize(7).bias(false).seed(1).build();
             SGD opt = SGD.builder().lr(1).params(conv.positions()).clampPositions(conv).build()) {
            conv.positions().value().set(0, 2.5f);
            conv.positions().grad().set(0, -10f);        // one step would move it to 12.5
            opt.step();
            assertEquals(3f, conv.positions().value().get(0));   // clamped to 7 / 2 = 3
            opt.zeroGrad();
            assertEquals(0f, conv.positions().grad().get(0));
        }
    }

    @Test
    void closedOptimizerThrows() {
        Parameter p = param("p", 1f);
        AdamW opt = AdamW.builder().params(p).build();
        opt.close();
        opt.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, opt::step);
        assertTrue(e.getMessage().contains("closed"));
    }

    @Test
    void stepOnAClosedLayerThrowsInsteadOfCrashing() {
        DclsConv conv = DclsConv.builder(1, 1).kernelCount(1).dilatedKernelSize(3).seed(1).build();
        try (SGD opt = SGD.builder().params(conv.parameters()).build()) {
            conv.close();
            assertThrows(IllegalStateException.class, opt::step);
        }
    }

    @Test
    void stepAllocatesNothingOnTheHeap() {
        try (DclsConv conv = DclsConv.builder(8, 8).kernelCount(4).dilatedKernelSize(7, 7).seed(1).build();
             AdamW adam = AdamW.builder().groups(ParamGroup.dcls(5, conv))
                     .schedule(LrSchedule.cosine(1e-3, 10, 1000, 0)).clampPositions(conv).build();
             SGD sgd = SGD.builder().momentum(0.9).nesterov(true).weightDecay(1e-4).params(conv.parameters()).build()) {
            var bean = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            for (int i = 0; i < 20_000; i++) {                // warm up (JIT)
                adam.step();
                sgd.step();
                adam.zeroGrad();
            }
            long tid = Thread.currentThread().threadId();
            long before = bean.getThreadAllocatedBytes(tid);
            for (int i = 0; i < 1000; i++) {
                adam.step();
                sgd.step();
                adam.zeroGrad();
            }
            long allocated = bean.getThreadAllocatedBytes(tid) - before;
            assertTrue(allocated < 1024, "1000 steps allocated " + allocated + " bytes on the heap");
        }
    }

    @Test
    void stateTensorsHaveTheParameterShapes() {
        try (DclsConv conv = DclsConv.builder(2, 4).kernelCount(3).dilatedKernelSize(5, 5).seed(1).build();
             AdamW opt = AdamW.builder().params(conv.parameters()).build()) {
            for (Parameter p : conv.parameters()) {
                assertArrayEquals(p.value().shape(), opt.state(p, "exp_avg").shape());
            }
            assertSame(conv.parameters().get(0), opt.parameters().get(0));
            assertThrows(IllegalArgumentException.class, () -> opt.state(conv.weight(), "momentum_buffer"));
        }
    }

    @Test
    void sigmaScheduleDecaysExponentiallyPerAxis() {
        SigmaSchedule s = SigmaSchedule.exponential(8, 0.23, 100);
        assertEquals(8, s.sigma(0, 0), 1e-12);
        assertEquals(Math.sqrt(8 * 0.23), s.sigma(0, 50), 1e-12);
        assertEquals(8 * Math.pow(0.23 / 8, 0.25), s.sigma(0, 25), 1e-12);
        assertEquals(0.23, s.sigma(0, 100), 1e-12);
        assertEquals(0.23, s.sigma(0, 5000), 1e-12);
        try (DclsConv conv = DclsConv.builder(1, 2).kernelCount(2).dilatedKernelSize(7, 11)
                .interpolation(Interpolation.GAUSSIAN).seed(1).build()) {
            SigmaSchedule k = SigmaSchedule.fromKernelSize(conv, 0.23, 10);
            assertEquals(3.5, k.sigma(0, 0), 1e-12);
            assertEquals(5.5, k.sigma(1, 0), 1e-12);
            k.apply(conv, 5);
            float[] sig = conv.sigma().value().toFloatArray();
            int per = sig.length / 2;
            for (int i = 0; i < sig.length; i++) {
                double expected = i < per ? Math.sqrt(3.5 * 0.23) : Math.sqrt(5.5 * 0.23);
                assertEquals(expected, sig[i], 1e-6);
            }
        }
        try (DclsConv v1 = DclsConv.builder(1, 1).kernelCount(1).dilatedKernelSize(5)
                .interpolation(Interpolation.TRIANGLE).build()) {
            assertThrows(IllegalArgumentException.class, () -> s.apply(v1, 0));
        }
    }

    @Test
    void frozenSigmaGetsNoGradient() {
        try (Arena a = Arena.ofConfined();
             DclsConv conv = DclsConv.builder(2, 2).kernelCount(2).dilatedKernelSize(5).padding(2).seed(3).build()) {
            Tensor x = Tensor.allocate(a, 1, 2, 9);
            for (int i = 0; i < 18; i++) {
                x.set(i, (float) Math.sin(i));
            }
            Tensor gy = Tensor.allocate(a, conv.outputShape(x.shape())).fill(1f);
            conv.forward(x);
            conv.backward(gy);
            float[] learned = conv.sigma().grad().toFloatArray();
            float[] pLearned = conv.positions().grad().toFloatArray();
            conv.zeroGrad();
            conv.freezeSigma(true);
            conv.forward(x);
            conv.backward(gy);
            assertArrayEquals(new float[learned.length], conv.sigma().grad().toFloatArray());
            assertArrayEquals(pLearned, conv.positions().grad().toFloatArray(), 1e-6f);
            assertTrue(Math.abs(learned[0]) + Math.abs(learned[1]) > 0);
        }
    }
}
