package io.dcls4j.cli.train;

import io.dcls4j.Device;
import io.dcls4j.Tensor;
import io.dcls4j.data.Batch;
import io.dcls4j.data.BatchAssembler;
import io.dcls4j.data.BatchLoader;
import io.dcls4j.data.FashionMnist;
import io.dcls4j.data.ImageDataset;
import io.dcls4j.data.LoaderOptions;
import io.dcls4j.dist.Communicator;
import io.dcls4j.dist.DataParallel;
import io.dcls4j.nn.ConvNeXtDcls;
import io.dcls4j.nn.CrossEntropyLoss;
import io.dcls4j.optim.Optimizer;

import java.io.PrintWriter;
import java.lang.foreign.Arena;

/**
 * One epoch of training (zero the gradients, forward, loss, backward, optimizer step, clamp the positions) with a
 * progress line, and one pass over the test set. The step reads the logits in place for the running accuracy and
 * allocates nothing on the Java heap.
 *
 * <p>Data-parallel (a {@link DataParallel} over more than one process): each process trains on its shard of every
 * global batch, the gradients are averaged before the optimizer step, so every process takes the same step; the
 * test set is split by batches over the processes. The epoch's loss, accuracy and image count are summed over the
 * processes at the end of the epoch (the progress line shows this process's running figures, its images/s times
 * the number of processes).
 */
public final class EpochRunner {
    /** Mean loss, accuracy (a fraction) and images seen. */
    public record Result(double meanLoss, double accuracy, long images) {}

    private final ConvNeXtDcls model;
    private final CrossEntropyLoss loss;
    private final Optimizer optimizer;
    private final PrintWriter out;
    private final DataParallel dataParallel;
    private final Communicator communicator;
    /** Three floats off-heap (loss sum, correct, images) for the end-of-epoch sum over the processes. */
    private final Tensor totals;
    /** A model on a CUDA device: the batch's images copied there, and its logits copied back for the accuracy. */
    private final Device device;
    private final Arena staging = Arena.ofAuto();   // freed with the runner (a few batches' worth)
    private Tensor deviceImages;
    private Tensor hostLogits;

    /**
     * @param dataParallel averages the gradients over its communicator's processes after every backward; null for
     *                     one process
     */
    public EpochRunner(ConvNeXtDcls model, CrossEntropyLoss loss, Optimizer optimizer, PrintWriter out,
                       DataParallel dataParallel) {
        this.model = model;
        this.loss = loss;
        this.optimizer = optimizer;
        this.out = out;
        this.dataParallel = dataParallel;
        this.communicator = dataParallel == null ? Communicator.single() : dataParallel.communicator();
        this.totals = Tensor.allocate(Arena.ofAuto(), 3);
        this.device = model.device();
    }

    /** The images where the model runs: the batch's own tensor on the CPU, else a copy on the device. */
    private Tensor onDevice(Tensor images) {
        if (!device.isCuda()) {
            return images;
        }
        if (deviceImages == null || !deviceImages.sameShape(images)) {
            deviceImages = Tensor.allocate(staging, device, images.shape());
        }
        return deviceImages.copyFrom(images);
    }

    /** The logits where the accuracy is counted: the host (a copy, which waits for the device, on CUDA). */
    private Tensor onHost(Tensor logits) {
        if (!device.isCuda()) {
            return logits;
        }
        if (hostLogits == null || !hostLogits.sameShape(logits)) {
            hostLogits = Tensor.allocate(staging, logits.shape());
        }
        return hostLogits.copyFrom(logits);
    }

    /** Trains {@code steps} batches from {@code loader} (the epoch's first ones). */
    public Result train(BatchLoader loader, int epoch, int epochs, int steps) {
        model.train();
        ProgressLine progress = ProgressLine.of(out, "epoch " + epoch + "/" + epochs, steps);
        double lossSum = 0;
        long correct = 0;
        long images = 0;
        long start = System.nanoTime();
        for (int step = 1; step <= steps; step++) {
            Batch batch = loader.next();
            model.zeroGrad();
            Tensor logits = model.forward(onDevice(batch.images()));
            float l = loss.forward(logits, batch.labels());
            model.backward(loss.backward());
            if (dataParallel != null) {
                dataParallel.finish();
            }
            optimizer.step();
            model.clampPositions();
            lossSum += l * batch.size();
            correct += correct(onHost(logits), batch.labels(), batch.size());
            images += batch.size();
            double seconds = (System.nanoTime() - start) / 1e9;
            progress.update(step, lossSum / images, (double) correct / images,
                    communicator.size() * images / seconds);
        }
        progress.finish();
        return sumOverProcesses(lossSum, correct, images);
    }

    /** The epoch's figures over every process (this process's alone when it is the only one). */
    private Result sumOverProcesses(double lossSum, long correct, long images) {
        if (communicator.size() > 1) {
            totals.set(0, (float) lossSum);
            totals.set(1, correct);
            totals.set(2, images);
            communicator.allReduceSum(totals);
            lossSum = totals.get(0);
            correct = Math.round(totals.get(1));
            images = Math.round(totals.get(2));
        }
        return new Result(lossSum / images, (double) correct / images, images);
    }

    /** The mean loss and accuracy over every image of {@code test}, in eval mode. */
    public Result evaluate(ImageDataset test, int batchSize) {
        model.eval();
        BatchAssembler assembler = new BatchAssembler(test,
                LoaderOptions.evaluation(batchSize).withNormalization(FashionMnist.NORMALIZATION));
        double lossSum = 0;
        long correct = 0;
        long images = 0;
        try (Arena arena = Arena.ofConfined()) {
            Batch batch = assembler.newBatch(arena);
            int[] tail = null;
            for (int b = communicator.rank(); b < assembler.batchesPerEpoch(); b += communicator.size()) {
                assembler.fill(0, b, batch);
                Tensor logits = model.forward(onDevice(batch.images()));
                int[] labels = batch.labels();
                if (batch.size() != labels.length) {           // the last, smaller batch
                    if (tail == null || tail.length != batch.size()) {
                        tail = new int[batch.size()];
                    }
                    System.arraycopy(labels, 0, tail, 0, batch.size());
                    labels = tail;
                }
                lossSum += (double) loss.forward(logits, labels) * batch.size();
                correct += correct(onHost(logits), labels, batch.size());
                images += batch.size();
            }
        }
        model.train();
        return sumOverProcesses(lossSum, correct, images);
    }

    /** How many rows of {@code logits} (n, classes) have their largest value at the label. */
    static int correct(Tensor logits, int[] labels, int n) {
        int classes = (int) logits.dim(1);
        int hits = 0;
        for (int i = 0; i < n; i++) {
            int best = 0;
            float bestValue = logits.get((long) i * classes);
            for (int c = 1; c < classes; c++) {
                float v = logits.get((long) i * classes + c);
                if (v > bestValue) {
                    bestValue = v;
                    best = c;
                }
            }
            hits += best == labels[i] ? 1 : 0;
        }
        return hits;
    }
}
