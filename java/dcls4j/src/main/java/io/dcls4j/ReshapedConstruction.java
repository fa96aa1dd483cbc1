package io.dcls4j;

import io.dcls4j.ops.KernelWindow;
import io.dcls4j.ops.ConstructConfig;

/**
 * A 1D kernel construction presented with the shapes of a Dcls2_1d, Dcls3_1d or Dcls2dK1d layer
 * ({@link KernelLayout}): the layer's tensors are viewed with the construction's shapes (same memory, same
 * C order), and its 1-axis window is spread to the convolution's axes (the learnable axis gets the window,
 * the dense and flat axes are whole).
 *
 * <p>Views are made once per tensor and kept: the layer passes the same parameter, gradient and kernel tensors
 * every time, so the hot path allocates nothing.
 */
final class ReshapedConstruction implements LayerBackend.Construction {
    private final LayerBackend.Construction inner;
    private final KernelLayout layout;
    private final long[] weightShape;
    private final long[] positionShape;
    private final long[] kernelShape;
    private final KernelWindow constructWindow;
    private final View weight = new View();
    private final View positions = new View();
    private final View sigma = new View();
    private final View kernel = new View();
    private final View gradKernel = new View();
    private final View gradWeight = new View();
    private final View gradPositions = new View();
    private final View gradSigma = new View();

    ReshapedConstruction(LayerBackend.Construction inner, ConstructConfig config, KernelLayout layout) {
        this.inner = inner;
        this.layout = layout;
        weightShape = new long[] {config.outChannels(), config.inPerGroup(), config.kernelCount()};
        positionShape = new long[] {1, config.outChannels(), config.inPerGroup(), config.kernelCount()};
        kernelShape = new long[] {config.outChannels(), config.inPerGroup(), config.dilatedKernelSize()[0]};
        constructWindow = new KernelWindow(config.dilatedKernelSize());
    }

    @Override
    public void forward(Tensor w, Tensor p, Tensor s, Tensor k) {
        inner.forward(weight.of(w, weightShape), positions.of(p, positionShape), sigma.of(s, positionShape),
                kernel.of(k, kernelShape));
    }

    @Override
    public void backward(Tensor w, Tensor p, Tensor s, Tensor gk, Tensor gw, Tensor gp, Tensor gs,
                         boolean accumulate) {
        inner.backward(weight.of(w, weightShape), positions.of(p, positionShape), sigma.of(s, positionShape),
                gradKernel.of(gk, kernelShape), gradWeight.of(gw, weightShape),
                gradPositions.of(gp, positionShape), gradSigma.of(gs, positionShape), accumulate);
    }

    @Override
    public void window(Tensor p, Tensor s, KernelWindow window) {
        int[] size = layout.convKernelSize();
        constructWindow.set(0, 0, size[layout.learnableAxis()]); // a backend without windows leaves it whole
        inner.window(positions.of(p, positionShape), sigma.of(s, positionShape), constructWindow);
        for (int d = 0; d < size.length; d++) {
            if (d == layout.learnableAxis()) {
                window.set(d, constructWindow.lo(0), constructWindow.hi(0));
            } else {
                window.set(d, 0, size[d]);
            }
        }
    }

    /**
     * The last tensor seen in one argument slot and its view with the construction's shape. A tensor of the
     * wrong element count is passed on as it is, for the construction's own check to name it.
     */
    private static final class View {
        private Tensor source;
        private Tensor view;

        Tensor of(Tensor t, long[] shape) {
            if (t == null) {
                return null;
            }
            if (t != source) {
                long n = 1;
                for (long d : shape) {
                    n *= d;
                }
                view = t.elementCount() == n ? t.reshape(shape) : t;
                source = t;
            }
            return view;
        }
    }
}
