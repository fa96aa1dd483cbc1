package io.dcls4j.cli;

import io.dcls4j.Dcls;
import io.dcls4j.Device;
import io.dcls4j.Interpolation;
import io.dcls4j.cli.train.EpochMetrics;
import io.dcls4j.cli.train.EpochRunner;
import io.dcls4j.cli.train.PositionSnapshot;
import io.dcls4j.cli.train.TrainingCharts;
import io.dcls4j.cli.train.TrainingMetrics;
import io.dcls4j.cli.train.TrainingRecipe;
import io.dcls4j.cli.train.TrainingState;
import io.dcls4j.data.Augmentation;
import io.dcls4j.data.BatchLoader;
import io.dcls4j.data.FashionMnist;
import io.dcls4j.data.ImageDataset;
import io.dcls4j.data.LoaderOptions;
import io.dcls4j.dist.Communicator;
import io.dcls4j.dist.DataParallel;
import io.dcls4j.dist.TimeoutAction;
import io.dcls4j.nn.ConvNeXtDcls;
import io.dcls4j.nn.CrossEntropyLoss;
import io.dcls4j.optim.AdamW;
import io.dcls4j.optim.LrSchedule;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.time.Duration;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code dcls4j train}: ConvNeXt-DCLS on Fashion-MNIST (the main job). AdamW with linear warm-up and cosine decay,
 * the ConvNeXt-dcls recipe for positions (5x the learning rate, no weight decay, clamped after every step), random
 * flips (and, on request, crops) prepared ahead of the training thread, an evaluation on the 10,000 test images after every
 * epoch, and in {@code --out}: metrics.json, the model (model.safetensors, PyTorch's names, readable by
 * {@code ConvNeXtDcls.loadPyTorchState} and torch's {@code load_state_dict}), the optimizer state for
 * {@code --resume}, and PNGs of the curves and of the learned positions (unless {@code --no-charts}).
 *
 * <p>Under {@code mpirun -np N} (or with {@code --distributed}) it trains data-parallel over MPI: every process
 * builds the same model (rank 0's values are broadcast), takes its shard of every global batch of
 * {@code --batch-size} samples, and the gradients are averaged before each optimizer step, so N processes train the
 * model one process trains with the same global batch. Only rank 0 prints and writes files.
 */
@Command(name = "train", mixinStandardHelpOptions = true, versionProvider = Versions.class,
        header = "Trains ConvNeXt-DCLS on Fashion-MNIST and evaluates it after every epoch.",
        description = "Trains a ConvNeXt-DCLS sized for 28x28 grey images on Fashion-MNIST (Debian's"
                + " dataset-fashion-mnist, or --data DIR), prints a progress line per epoch and the test accuracy"
                + " after it, and writes metrics.json, model.safetensors, optimizer.safetensors and PNGs into --out.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "1:failure (missing or bad data, an error)",
                "2:usage error (unknown option, bad value)"})
public final class TrainCommand implements Callable<Integer> {
    /** Positions learn 5x faster, as in ConvNeXt-dcls. */
    static final double POSITION_LR_SCALE = 5.0;

    @Spec
    CommandSpec spec;

    @Option(names = "--epochs", description = "Epochs (default: ${DEFAULT-VALUE}).")
    int epochs = 7;

    @Option(names = "--steps", description = "Stop after this many training steps in all (0: no limit).")
    long steps = 0;

    @Option(names = "--batch-size", description = "Global batch size (default: ${DEFAULT-VALUE}).")
    int batchSize = 128;

    @Option(names = "--lr", description = "Peak learning rate (default: ${DEFAULT-VALUE}).")
    double lr = 4e-3;

    @Option(names = "--weight-decay", description = "AdamW weight decay of the weights (default: ${DEFAULT-VALUE}).")
    double weightDecay = 0.05;

    @Option(names = "--warmup-steps", description = "Linear warm-up steps (default: ${DEFAULT-VALUE}).")
    long warmupSteps = 200;

    @Option(names = "--seed", description = "Seeds the weights, the data order and the augmentation (default: ${DEFAULT-VALUE}).")
    long seed = 1;

    @Option(names = "--threads", description = "Native threads per process (0: all cores, shared out among the processes"
            + " of a data-parallel job on this machine; default: ${DEFAULT-VALUE}).")
    int threads = 0;

    @Option(names = "--data", description = "Folder with the Fashion-MNIST IDX files (default: ${DEFAULT-VALUE}).")
    Path data = FashionMnist.DEFAULT_DIR;

    @Option(names = "--out", description = "Output folder (default: ${DEFAULT-VALUE}).")
    Path out = Path.of("train-output");

    @Option(names = "--dims", split = ",", description = "Channels per stage (default: 32,64,128).")
    int[] dims = {32, 64, 128};

    @Option(names = "--depths", split = ",", description = "Blocks per stage (default: 1,1,1).")
    int[] depths = {1, 1, 1};

    @Option(names = "--conv", converter = DepthwiseConverter.class,
            description = "The blocks' depthwise convolution: dcls (learnable spacings), dense (k x k, --kernel-size)"
                    + " or dilated (k x k spread by --dilation); the paper's comparison at equal parameter counts"
                    + " (default: dcls).")
    ConvNeXtDcls.Depthwise conv = ConvNeXtDcls.Depthwise.DCLS;

    @Option(names = "--kernel-size", description = "--conv dense and dilated: taps per axis, odd (default: ${DEFAULT-VALUE}).")
    int kernelSize = 7;

    @Option(names = "--dilation", description = "--conv dilated: the spacing of the taps (default: ${DEFAULT-VALUE}).")
    int dilation = 2;

    @Option(names = "--dcls-kernel-size", description = "Dilated kernel size of the DCLS convolutions (default: ${DEFAULT-VALUE}).")
    int dclsKernelSize = 7;

    @Option(names = "--kernel-count", description = "Taps per channel of the DCLS convolutions (default: ${DEFAULT-VALUE}).")
    int kernelCount = 9;

    @Option(names = "--interpolation", converter = InterpolationConverter.class,
            description = "v0, v1, max, gauss or the enum names (default: gauss).")
    Interpolation interpolation = Interpolation.GAUSSIAN;

    @Option(names = "--layer-scale-init", description = "The blocks' layer scale at the start (0: none). ConvNeXt's"
            + " 1e-6 makes every block start as the identity, which suits deep nets trained long; a short run of this"
            + " small net learns faster from 1 (default: ${DEFAULT-VALUE}).")
    double layerScaleInit = 1.0;

    @Option(names = "--crop-padding", description = "Random-crop augmentation: pad by this many pixels, cut a 28x28"
            + " window at a random offset (0: no crop). Off by default: in a run of a few epochs this small net"
            + " learns faster without it (BENCHMARKS.md: 91.59% against 90.54% after 8 epochs)"
            + " (default: ${DEFAULT-VALUE}).")
    int cropPadding = 0;

    @Option(names = "--no-flip", description = "No random horizontal flips (they are on by default).")
    boolean noFlip;

    @Option(names = "--eval-images", description = "Evaluate on the first N test images only (0: all 10,000;"
            + " for quick checks; default: ${DEFAULT-VALUE}).")
    int evalImages = 0;

    @Option(names = "--device", converter = DeviceConverter.class,
            description = "Where the model trains: cpu, cuda or cuda:N (default: ${DEFAULT-VALUE}). On CUDA: cuDNN where"
                    + " it can be loaded, dcls4j's own kernels for the rest; one process.")
    Device device = Device.cpu();

    @Option(names = "--data-prefix", description = "--data may hold only the first N images of each set (IDX files"
            + " cut by scripts/idx_head.py), for a quick run or a timing; without it a short file is an error.")
    boolean dataPrefix;

    @Option(names = "--no-charts", description = "Write no PNGs (the charts need java.desktop, which a minimal"
            + " jlinked runtime may lack).")
    boolean noCharts;

    @Option(names = "--distributed", description = "Train data-parallel over MPI even if no MPI launcher is"
            + " detected (under mpirun or srun it is on by itself).")
    boolean distributed;

    @Option(names = "--dist-timeout", description = "Data-parallel: seconds to wait for the other processes in any"
            + " collective before the job is aborted (default: the dcls4j.dist.timeout property, else 300).")
    double distTimeout = 0;

    @Option(names = "--resume", description = "Continue from a model.safetensors written by an earlier run"
            + " (its optimizer.safetensors and metrics.json beside it).")
    Path resume;

    /** dcls, dense or dilated. */
    static final class DepthwiseConverter implements ITypeConverter<ConvNeXtDcls.Depthwise> {
        @Override
        public ConvNeXtDcls.Depthwise convert(String value) {
            try {
                return ConvNeXtDcls.Depthwise.valueOf(value.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException(
                        "expected dcls, dense or dilated, got '" + value + "'");
            }
        }
    }

    /** Interpolation by the reference's names or the enum's. */
    static final class InterpolationConverter implements ITypeConverter<Interpolation> {
        @Override
        public Interpolation convert(String value) {
            try {
                return Interpolation.fromReferenceName(value);
            } catch (IllegalArgumentException e) {
                return Interpolation.valueOf(value.toUpperCase(Locale.ROOT));
            }
        }
    }

    private String usageError() {
        if (epochs < 1) {
            return "--epochs must be >= 1, got " + epochs;
        }
        if (steps < 0) {
            return "--steps must be >= 0, got " + steps;
        }
        if (batchSize < 1 || batchSize > FashionMnist.TRAIN_SIZE) {
            return "--batch-size must be in [1, " + FashionMnist.TRAIN_SIZE + "], got " + batchSize;
        }
        if (!(lr > 0) || !Double.isFinite(lr)) {
            return "--lr must be a positive number, got " + lr;
        }
        if (!(weightDecay >= 0) || !Double.isFinite(weightDecay)) {
            return "--weight-decay must be >= 0, got " + weightDecay;
        }
        if (warmupSteps < 0) {
            return "--warmup-steps must be >= 0, got " + warmupSteps;
        }
        if (!(layerScaleInit >= 0) || !Double.isFinite(layerScaleInit)) {
            return "--layer-scale-init must be >= 0, got " + layerScaleInit;
        }
        if (!(distTimeout >= 0) || !Double.isFinite(distTimeout)) {
            return "--dist-timeout must be >= 0 seconds, got " + distTimeout;
        }
        if (cropPadding < 0 || cropPadding > 14) {
            return "--crop-padding must be in [0, 14], got " + cropPadding;
        }
        if (evalImages < 0) {
            return "--eval-images must be >= 0, got " + evalImages;
        }
        if (threads < 0) {
            return "--threads must be >= 0, got " + threads;
        }
        if (dims.length == 0 || dims.length != depths.length) {
            return "--dims and --depths need the same number of stages, got " + dims.length + " and " + depths.length;
        }
        if (dclsKernelSize < 1 || kernelCount < 1) {
            return "--dcls-kernel-size and --kernel-count must be >= 1";
        }
        if (kernelSize < 1 || kernelSize % 2 == 0) {
            return "--kernel-size must be odd and >= 1, got " + kernelSize;
        }
        if (dilation < 1) {
            return "--dilation must be >= 1, got " + dilation;
        }
        return null;
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        String usage = usageError();
        if (usage != null) {
            err.println("train: " + usage);
            return Main.USAGE;
        }
        if (!FashionMnist.isPresent(data)) {
            err.println("train: no Fashion-MNIST IDX files in " + data + ": install them with"
                    + " `apt-get install dataset-fashion-mnist` (./run.sh train does), or pass --data DIR");
            return Main.FAILURE;
        }
        Communicator comm = distributed || Communicator.launchedByMpi()
                ? Communicator.mpi(distTimeout > 0 ? Duration.ofNanos((long) (distTimeout * 1e9))
                        : Communicator.configuredTimeout(), TimeoutAction.ABORT)
                : Communicator.single();
        try {
            Dcls.setNumThreads(threads > 0 ? threads : threadsPerProcess(comm));
            if (device.isCuda() && comm.size() > 1) {
                if (comm.isRoot()) {
                    err.println("train: --device " + device + " runs one process; data-parallel training over MPI"
                            + " averages host gradients (run several processes on the CPU)");
                }
                return Main.USAGE;
            }
            if (batchSize % comm.size() != 0) {
                if (comm.isRoot()) {
                    err.println("train: --batch-size " + batchSize + " (the global batch) does not split evenly over "
                            + comm.size() + " processes");
                }
                return Main.USAGE;
            }
            return train(comm, comm.isRoot() ? spec.commandLine().getOut() : new PrintWriter(Writer.nullWriter()),
                    err);
        } finally {
            comm.close();
        }
    }

    /**
     * --threads 0: all cores for one process; the cores shared out among the processes of this machine (Open MPI's
     * local size) for several, since oversubscribed threads slow every rank down.
     */
    private static int threadsPerProcess(Communicator comm) {
        if (comm.size() == 1) {
            return 0;
        }
        int local = comm.size();
        String s = System.getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
        if (s != null) {
            try {
                local = Math.max(1, Integer.parseInt(s.trim()));
            } catch (NumberFormatException ignored) {
                // keep the world size: a conservative share
            }
        }
        return Math.max(1, Runtime.getRuntime().availableProcessors() / local);
    }

    /** The training, on one process or as one of {@code comm.size()} data-parallel ones. */
    private int train(Communicator comm, PrintWriter o, PrintWriter err) throws IOException {
        boolean root = comm.isRoot();
        ImageDataset train = dataPrefix ? FashionMnist.trainPrefix(data) : FashionMnist.train(data);
        ImageDataset test = dataPrefix ? FashionMnist.testPrefix(data) : FashionMnist.test(data);
        if (evalImages > 0) {
            test = test.first(evalImages);
        }
        if (root) {
            Files.createDirectories(out);
        }
        int localBatch = batchSize / comm.size();

        try (ConvNeXtDcls model = ConvNeXtDcls.builder().inChannels(1).numClasses(FashionMnist.CLASSES)
                .depths(depths).dims(dims).stemKernel(2).dclsKernelSize(dclsKernelSize).dclsKernelCount(kernelCount)
                .interpolation(interpolation).depthwise(conv).depthwiseKernelSize(kernelSize).dilation(dilation)
                .layerScaleInit(layerScaleInit)
                .seed(seed).device(device).build();
             CrossEntropyLoss loss = new CrossEntropyLoss(0, device)) {
            List<EpochMetrics> finished = new ArrayList<>();
            // Every process takes the same number of steps: its shard (the smallest one) in whole local batches.
            int stepsPerEpoch = train.size() / comm.size() / localBatch;   // the last partial batch is dropped
            long plannedSteps = steps > 0 ? Math.min(steps, (long) epochs * stepsPerEpoch) : (long) epochs * stepsPerEpoch;
            try (AdamW optimizer = TrainingRecipe.optimizer(model, lr, weightDecay, POSITION_LR_SCALE,
                    LrSchedule.cosine(lr, Math.min(warmupSteps, plannedSteps / 2), plannedSteps, lr * 1e-3))) {
                if (resume != null) {   // every process reads the same files (a shared folder, as PyTorch's)
                    finished.addAll(TrainingState.resume(resume, model, optimizer));
                    o.printf(Locale.ROOT, "resumed from %s: %d epochs done, step %d%n", resume, finished.size(),
                            optimizer.steps());
                }
                long parameters = TrainingRecipe.parameterCount(model);
                o.printf(Locale.ROOT, "ConvNeXt dims %s depths %s, depthwise %s: %,d parameters; %s%s%n",
                        java.util.Arrays.toString(dims), java.util.Arrays.toString(depths), depthwiseName(),
                        parameters, device.isCuda() ? "on " + device + " (" + device.describe() + ")"
                                : Dcls.numThreads() + " threads",
                        comm.size() > 1 ? String.format(Locale.ROOT,
                                " x %d processes (MPI, %d images each per step)", comm.size(), localBatch) : "");
                PositionSnapshot start = root && !noCharts && conv == ConvNeXtDcls.Depthwise.DCLS   // rank 0 charts
                        ? PositionSnapshot.of(model) : null;
                try (DataParallel dp = comm.size() > 1
                        ? DataParallel.of(comm, List.copyOf(model.namedParameters().values()),
                                List.copyOf(model.namedBuffers().values()), DataParallel.DEFAULT_BUCKET_BYTES)
                        : null) {
                    EpochRunner runner = new EpochRunner(model, loss, optimizer, o, dp);
                    double imagesPerSecond = 0;
                    LoaderOptions trainOptions = LoaderOptions.training(localBatch, seed)
                            .withNormalization(FashionMnist.NORMALIZATION)
                            .withAugmentation(new Augmentation(cropPadding, !noFlip))
                            .withShard(comm.rank(), comm.size());
                    try (BatchLoader loader = new BatchLoader(train, trainOptions, finished.size())) {
                        for (int epoch = finished.size(); epoch < epochs && optimizer.steps() < plannedSteps; epoch++) {
                            long before = System.nanoTime();
                            EpochRunner.Result r = runner.train(loader, epoch + 1, epochs,
                                    (int) Math.min(stepsPerEpoch, plannedSteps - optimizer.steps()));
                            double seconds = (System.nanoTime() - before) / 1e9;
                            imagesPerSecond = r.images() / seconds;
                            EpochRunner.Result t = runner.evaluate(test, batchSize);
                            EpochMetrics m = new EpochMetrics(epoch + 1, r.meanLoss(), t.meanLoss(), t.accuracy(),
                                    seconds);
                            finished.add(m);
                            o.printf(Locale.ROOT, "epoch %d: train loss %.4f, test loss %.4f, test accuracy %.2f%%,"
                                    + " %.1f s, %.0f images/s%n", m.epoch(), m.trainLoss(), m.testLoss(),
                                    100 * m.testAccuracy(), seconds, imagesPerSecond);
                            o.flush();
                            if (root) {
                                TrainingState.save(out, model, optimizer, finished);
                                new TrainingMetrics(finished, m.testAccuracy(), parameters, imagesPerSecond)
                                        .write(out.resolve("metrics.json"));
                            }
                        }
                    }
                }
                if (finished.isEmpty()) {
                    if (root) {
                        err.println("train: nothing left to train (--epochs " + epochs + " already done)");
                    }
                    return Main.USAGE;
                }
                if (root && !noCharts) {
                    String title = "ConvNeXt (" + depthwiseName() + ") on Fashion-MNIST";
                    TrainingCharts.loss(finished, out.resolve("loss.png"), title + ": loss");
                    TrainingCharts.accuracy(finished, out.resolve("accuracy.png"), title + ": test accuracy");
                    if (start != null) {
                        PositionSnapshot.chart(start, PositionSnapshot.of(model), out.resolve("positions.png"),
                                dclsKernelSize);
                    }
                }
                o.printf(Locale.ROOT, "test accuracy %.2f%%; wrote %s%n",
                        100 * finished.getLast().testAccuracy(), out.toAbsolutePath());
            }
        }
        return Main.OK;
    }

    /** The depthwise convolution in words, for the first line of the output. */
    private String depthwiseName() {
        return switch (conv) {
            case DCLS -> String.format(Locale.ROOT, "DCLS %s %dx%d K=%d", interpolation.referenceName(), dclsKernelSize,
                    dclsKernelSize, kernelCount);
            case DENSE -> String.format(Locale.ROOT, "dense %dx%d", kernelSize, kernelSize);
            case DILATED -> String.format(Locale.ROOT, "dilated %dx%d, dilation %d", kernelSize, kernelSize, dilation);
        };
    }
}
