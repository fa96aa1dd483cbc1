package io.dcls4j;

import io.dcls4j.internal.CudaContext;
import io.dcls4j.internal.Descriptors;
import io.dcls4j.internal.Shapes;
import io.dcls4j.ops.KernelWindow;
import io.dcls4j.ops.ConstructConfig;
import io.dcls4j.ops.ConvConfig;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One CUDA device: kernel construction ({@code dcls_cuda_construct_*}) and convolution plans
 * ({@code dcls_cuda_conv_plan}, cuDNN or dcls4j's depthwise kernels, every padding mode), all enqueued
 * on the device's one stream. The CUDA library has no kernel windows: its convolutions always run on
 * the whole kernel, so the window calls leave the window alone. Every tensor is checked (shape, device,
 * arena) before the native call, as the CPU ops do.
 */
final class CudaBackend implements LayerBackend {
    private final Device device;
    /** The end of the message for a tensor on another device (built once: checks allocate nothing). */
    private final String onDevice;
    private final CudaContext context;
    private final boolean tf32;

    /** Creates (or reuses) the device's context: {@link DclsException} when CUDA or the device is missing. */
    CudaBackend(Device device, boolean tf32) {
        this.device = device;
        this.onDevice = ", expected " + device;
        this.context = CudaContext.of(device.index());
        this.tf32 = tf32;
    }

    @Override
    public Construction construction(ConstructConfig config) {
        return new CudaConstruction(config);
    }

    @Override
    public Plan plan(ConvConfig config) {
        return new CudaPlan(config);
    }

    private void require(String name, Tensor t, long[] shape) {
        Shapes.require(name, t, shape, device, onDevice);
    }

    private void requireOptional(String name, Tensor t, long[] shape) {
        Shapes.requireOptional(name, t, shape, device, onDevice);
    }

    private static MemorySegment addressOrNull(Tensor t) {
        return t == null ? MemorySegment.NULL : t.address();
    }

    private final class CudaConstruction implements Construction {
        private final boolean hasSigma;
        private final MemorySegment desc;
        private final long[] weightShape;
        private final long[] positionShape;
        private final long[] kernelShape;

        CudaConstruction(ConstructConfig config) {
            hasSigma = config.interpolation().learnsSigma();
            desc = Descriptors.construct(Arena.ofAuto(), config);
            weightShape = config.weightShape();
            positionShape = config.positionShape();
            kernelShape = config.kernelShape();
        }

        @Override
        public void forward(Tensor weight, Tensor positions, Tensor sigma, Tensor kernel) {
            checkInputs(weight, positions, sigma);
            require("kernel", kernel, kernelShape);
            context.constructForward(desc, weight.address(), positions.address(), addressOrNull(sigma),
                    kernel.address());
        }

        @Override
        public void backward(Tensor weight, Tensor positions, Tensor sigma, Tensor gradKernel, Tensor gradWeight,
                             Tensor gradPositions, Tensor gradSigma, boolean accumulate) {
            checkInputs(weight, positions, sigma);
            require("gradKernel", gradKernel, kernelShape);
            requireOptional("gradWeight", gradWeight, weightShape);
            requireOptional("gradPositions", gradPositions, positionShape);
            if (!hasSigma && gradSigma != null) {
                throw new IllegalArgumentException("gradSigma must be null: the interpolation has no sigma");
            }
            requireOptional("gradSigma", gradSigma, positionShape);
            context.constructBackward(desc, weight.address(), positions.address(), addressOrNull(sigma),
                    gradKernel.address(), addressOrNull(gradWeight), addressOrNull(gradPositions),
                    addressOrNull(gradSigma), accumulate);
        }

        @Override
        public void window(Tensor positions, Tensor sigma, KernelWindow window) {
            // no kernel windows on the GPU: the window stays the whole kernel
        }

        private void checkInputs(Tensor weight, Tensor positions, Tensor sigma) {
            require("weight", weight, weightShape);
            require("positions", positions, positionShape);
            if (hasSigma) {
                require("sigma", sigma, positionShape);
            } else if (sigma != null) {
                throw new IllegalArgumentException("sigma must be null: the interpolation has no sigma");
            }
        }
    }

    private final class CudaPlan implements Plan {
        private final long[] inputShape;
        private final long[] outputShape;
        private final long[] kernelShape;
        private final long[] biasShape;
        private MemorySegment plan;

        CudaPlan(ConvConfig config) {
            try (Arena arena = Arena.ofConfined()) {
                plan = context.createPlan(Descriptors.conv(arena, config), tf32);
            }
            inputShape = config.inputShape();
            outputShape = config.outputShape();
            kernelShape = config.kernelShape();
            biasShape = new long[] {config.outChannels()};
        }

        @Override
        public long[] outputShape() {
            return outputShape.clone();
        }

        @Override
        public void setKernelWindow(KernelWindow window) {
            // no kernel windows on the GPU
        }

        @Override
        public void forward(Tensor x, Tensor kernel, Tensor bias, Tensor y) {
            MemorySegment p = plan();
            require("x", x, inputShape);
            require("kernel", kernel, kernelShape);
            requireOptional("bias", bias, biasShape);
            require("y", y, outputShape);
            context.convForward(p, x.address(), kernel.address(), addressOrNull(bias), y.address());
        }

        @Override
        public void backwardData(Tensor gradY, Tensor kernel, Tensor gradX) {
            MemorySegment p = plan();
            require("gradY", gradY, outputShape);
            require("kernel", kernel, kernelShape);
            require("gradX", gradX, inputShape);
            context.convBackwardData(p, gradY.address(), kernel.address(), gradX.address());
        }

        @Override
        public void backwardWeights(Tensor x, Tensor gradY, Tensor gradKernel, Tensor gradBias, boolean accumulate) {
            MemorySegment p = plan();
            require("x", x, inputShape);
            require("gradY", gradY, outputShape);
            require("gradKernel", gradKernel, kernelShape);
            requireOptional("gradBias", gradBias, biasShape);
            context.convBackwardWeights(p, x.address(), gradY.address(), gradKernel.address(), addressOrNull(gradBias),
                    accumulate);
        }

        @Override
        public String engineInfo() {
            return context.planInfo(plan());
        }

        private MemorySegment plan() {
            MemorySegment p = plan;
            if (p == null) {
                throw new IllegalStateException("CUDA convolution plan is closed");
            }
            return p;
        }

        @Override
        public void close() {
            MemorySegment p = plan;
            if (p != null) {
                plan = null;
                context.destroyPlan(p);
            }
        }
    }
}
