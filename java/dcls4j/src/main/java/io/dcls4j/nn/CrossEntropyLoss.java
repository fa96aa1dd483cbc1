package io.dcls4j.nn;

import io.dcls4j.Device;
import io.dcls4j.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * torch.nn.CrossEntropyLoss(reduction="mean", label_smoothing): the mean over the batch of the negative log-softmax at
 * each label (oneDNN log-softmax on the CPU, dcls4j's kernels on CUDA). {@link #backward()} gives the gradient of that
 * mean with respect to the logits, owned by the loss until its next forward with logits of the same shape.
 */
public final class CrossEntropyLoss implements AutoCloseable {
    private final float labelSmoothing;
    private final NnOps ops;
    private final Arena arena = Arena.ofShared();
    private NativePlan plan;
    private long[] shape;
    private MemorySegment labelBuffer;
    private Tensor loss;      // on the device
    private Tensor hostLoss;  // where a CUDA loss is copied to be read
    private Tensor grad;
    private boolean forwarded;
    private boolean closed;

    public CrossEntropyLoss() {
        this(0);
    }

    /** {@code labelSmoothing} in [0, 1]: the target is (1 - s) one-hot + s / classes. */
    public CrossEntropyLoss(double labelSmoothing) {
        this(labelSmoothing, Device.cpu());
    }

    /**
     * On {@code device}, a CPU or CUDA device, where the logits are and the gradient will be. On CUDA, reading the
     * loss ({@link #forward}'s result) waits for the device.
     */
    public CrossEntropyLoss(double labelSmoothing, Device device) {
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
            throw new IllegalArgumentException("label smoothing must be in [0, 1], got " + labelSmoothing);
        }
        if (device == null) {
            throw new IllegalArgumentException("CrossEntropyLoss: device must not be null");
        }
        this.labelSmoothing = (float) labelSmoothing;
        this.ops = NnOps.of(device);
    }

    /** Where the logits and the gradient are. */
    public Device device() {
        return ops.device();
    }

    /** The mean loss of {@code logits} (N, classes) against {@code labels} (N values in [0, classes)). */
    public float forward(Tensor logits, int[] labels) {
        ensureOpen();
        if (logits == null || labels == null) {
            throw new IllegalArgumentException("CrossEntropyLoss: logits and labels must not be null");
        }
        logits.requireAlive("logits");
        if (!logits.device().equals(ops.device())) {
            throw new IllegalArgumentException("CrossEntropyLoss: logits are on " + logits.device() + ", the loss on "
                    + ops.device());
        }
        if (logits.rank() != 2) {
            throw new IllegalArgumentException("CrossEntropyLoss: logits have shape " + Arrays.toString(logits.shape())
                    + "; expected (N, classes)");
        }
        long n = logits.dim(0);
        long classes = logits.dim(1);
        if (labels.length != n) {
            throw new IllegalArgumentException("CrossEntropyLoss: " + labels.length + " labels for a batch of " + n);
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new IllegalArgumentException("CrossEntropyLoss: label " + labels[i] + " of sample " + i
                        + " is outside [0, " + classes + ")");
            }
        }
        if (shape == null || !logits.hasShape(shape)) {
            reshape(logits.shape());
        }
        MemorySegment.copy(labels, 0, labelBuffer, ValueLayout.JAVA_INT, 0, labels.length);
        ops.crossEntropyForward(plan, logits, labelBuffer, labelSmoothing, loss);
        forwarded = true;
        if (hostLoss == null) {
            return loss.get(0);
        }
        hostLoss.copyFrom(loss); // into pageable memory: waits for the device
        return hostLoss.get(0);
    }

    private void reshape(long[] s) {
        if (plan != null) {
            plan.close();
        }
        plan = ops.crossEntropy(s[0], s[1]);
        shape = s;
        labelBuffer = arena.allocate(s[0] * Integer.BYTES, 64);
        if (loss == null) {
            loss = Tensor.allocate(arena, ops.device(), 1);
            hostLoss = ops.device().isCuda() ? Tensor.allocate(arena, 1) : null;
        }
        grad = Tensor.allocate(arena, ops.device(), s);
        forwarded = false;
    }

    /** The gradient of the last forward's mean loss with respect to its logits. */
    public Tensor backward() {
        ensureOpen();
        if (!forwarded) {
            throw new IllegalStateException("CrossEntropyLoss: backward called before forward");
        }
        ops.crossEntropyBackward(plan, grad);
        return grad;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("CrossEntropyLoss is closed");
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (plan != null) {
            plan.close();
        }
        arena.close();
    }
}
