package io.dcls4j;

import io.dcls4j.ops.Convolution;
import io.dcls4j.ops.KernelConstruction;
import io.dcls4j.ops.KernelWindow;
import io.dcls4j.ops.ConstructConfig;
import io.dcls4j.ops.ConvConfig;

/** The CPU: the public functional ops, {@link KernelConstruction} and {@link Convolution}, unchanged. */
final class CpuBackend implements LayerBackend {
    static final CpuBackend INSTANCE = new CpuBackend();

    private CpuBackend() {}

    /** Kernel construction on the CPU: the public op, which a CPU plan can also take its kernel cells from. */
    private record CpuConstruction(KernelConstruction k) implements Construction {
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
    }

    @Override
    public Construction construction(ConstructConfig config) {
        return new CpuConstruction(new KernelConstruction(config));
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
            public boolean setKernelCells(Construction construction, Tensor positions, Tensor sigma,
                                          boolean gradient) {
                if (!(construction instanceof CpuConstruction cpu)) {
                    return false;   // a reshaped kind: its construction's kernel is not this plan's kernel
                }
                c.setKernelCells(cpu.k(), positions, sigma, gradient);
                return true;
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
