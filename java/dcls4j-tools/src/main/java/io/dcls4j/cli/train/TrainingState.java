package io.dcls4j.cli.train;

import io.dcls4j.Parameter;
import io.dcls4j.Tensor;
import io.dcls4j.checkpoint.Safetensors;
import io.dcls4j.io.NdArray;
import io.dcls4j.nn.ConvNeXtDcls;
import io.dcls4j.optim.Optimizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code train} writes after every epoch so that a run can go on later: {@code model.safetensors} (the
 * official PyTorch names, see {@link ConvNeXtDcls#saveState}), {@code optimizer.safetensors} (AdamW's moments
 * under {@code <parameter name>.<state>} and the step count) and {@code metrics.json} (the finished epochs).
 * Each file is written to a temporary name and moved into place, so an interrupted run leaves the last complete
 * epoch's files.
 */
public final class TrainingState {
    static final String STEP = "optimizer.step";

    private TrainingState() {}

    public static void save(Path dir, ConvNeXtDcls model, Optimizer optimizer, List<EpochMetrics> epochs)
            throws IOException {
        model.saveState(dir.resolve("model.safetensors"));
        Map<String, Safetensors.Entry> state = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            for (String s : optimizer.stateNames()) {
                Tensor t = optimizer.state(e.getValue(), s);
                state.put(e.getKey() + "." + s, Safetensors.Entry.f32(NdArray.ofFloats(t.toFloatArray(), t.shape())));
            }
        }
        state.put(STEP, new Safetensors.Entry(Safetensors.DType.I64,
                NdArray.of(new double[] {optimizer.steps()}, new long[0])));
        Safetensors.write(dir.resolve("optimizer.safetensors"), state,
                Map.of("format", "dcls4j-train", "epochs", Integer.toString(epochs.size())));
    }

    /**
     * Loads a run's model, optimizer state and finished epochs from the folder of {@code model} (a
     * model.safetensors); the model and the optimizer are changed only when every file reads and fits.
     */
    public static List<EpochMetrics> resume(Path model, ConvNeXtDcls net, Optimizer optimizer) throws IOException {
        Path dir = model.toAbsolutePath().getParent();
        Path optimizerFile = dir.resolve("optimizer.safetensors");
        Path metricsFile = dir.resolve("metrics.json");
        for (Path f : new Path[] {model, optimizerFile, metricsFile}) {
            if (!Files.isRegularFile(f)) {
                throw new IOException("cannot resume: " + f + " is missing");
            }
        }
        List<EpochMetrics> epochs = TrainingMetrics.readEpochs(metricsFile);
        Safetensors.Contents contents = Safetensors.read(optimizerFile);
        Map<Tensor, float[]> values = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
            for (String s : optimizer.stateNames()) {
                String name = e.getKey() + "." + s;
                Tensor t = optimizer.state(e.getValue(), s);
                Safetensors.Entry entry = contents.tensors().get(name);
                if (entry == null || !Arrays.equals(entry.array().shape(), t.shape())) {
                    throw new IOException(optimizerFile + ": '" + name + "' is missing or has the wrong shape"
                            + " (was it written for another model?)");
                }
                values.put(t, entry.array().toFloatArray());
            }
        }
        Safetensors.Entry step = contents.tensors().get(STEP);
        if (step == null || step.array().size() != 1) {
            throw new IOException(optimizerFile + ": no '" + STEP + "'");
        }
        net.loadPyTorchState(model);   // checks every name and shape first, all or nothing
        values.forEach(Tensor::copyFrom);
        optimizer.restoreSteps((long) step.array().data()[0]);
        return new ArrayList<>(epochs);
    }
}
