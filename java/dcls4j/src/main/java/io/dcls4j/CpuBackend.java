package io.dcls4j;

import io.dcls4j.ops.Convolution;
import io.dcls4j.ops.KernelConstruction;
import io.dcls4j.ops.KernelWindow;
import io.dcls4j.reference.ConstructConfig;
import io.dcls4j.reference.ConvConfig;

/** The CPU: the public functional ops, {@link KernelConstruction} and {@link Convolution}, unchanged. */
final class CpuBackend implements LayerBackend {
    static final CpuBackend INSTANCE = new CpuBackend();

    private CpuBackend() {}

    @Override
    public Construction construction(ConstructConfig config) {
        KernelConstruction k = new KernelConstruction(config);
        return new Construction() {
            @Override
            public void forward(Tensor weight, Tensor positions, Tensor sigma, Tensor kernel) {
                k.forward(weight, positions, sigma, kernel);
            }

            @Override
            public void backward(Tensor weight, Tensor positions, Tensor sigma, Tensor gradKernel, Tensor gradWeight,
                                 Tensor gradPositions, Tensor gradSigma, boolean accumulate) {
                k.backward(weight, positions, sigma, gradKernel, gradWeight, gradPositions, gradSigma, accumulate);
            }

            @Override
            public void window(Tensor positions, Tensor sigma, KernelWindow window) {
                k.window(positions, sigma, window);
            }
        };
    }

    @Override
    public Plan plan(ConvConfig config) {
        Convolution c = new Convolution(config);
        return new Plan() {
            @Override
            public long[] outputShape() {
                return c.outputShape();
            }

            @Override
            public void setKernelWindow(KernelWindow window) {
                c.setKernelWindow(window);
            }

            @Override
            public void forward(Tensor x, Tensor kernel, Tensor bias, Tensor y) {
                c.forward(x, kernel, bias, y);
            }

            @Override
            public void backwardData(Tensor gradY, Tensor kernel, Tensor gradX) {
                c.backwardData(gradY, kernel, gradX);
            }

            @Override
            public void backwardWeights(Tensor x, Tensor gradY, Tensor gradKernel, Tensor gradBias,
                                        boolean accumulate) {
                c.backwardWeights(x, gradY, gradKernel, gradBias, accumulate);
            }

            @Override
            public String engineInfo() {
                return c.engineInfo();
            }

            @Override
            public void close() {
                c.close();
            }
        };
    }
}
