package io.dcls4j.cli.train;

/**
 * One epoch of a training run, as {@code metrics.json} lists it.
 *
 * @param epoch        the epoch's number, as the run counts them (the train command: from 1)
 * @param trainLoss    mean training loss over the epoch's batches
 * @param testLoss     mean loss over the test set after the epoch
 * @param testAccuracy fraction of the test set classified correctly after the epoch, in [0, 1]
 * @param seconds      wall-clock time of the epoch (training and evaluation)
 */
public record EpochMetrics(int epoch, double trainLoss, double testLoss, double testAccuracy, double seconds) {
    public EpochMetrics {
        TrainingMetrics.checkFraction("test_accuracy of epoch " + epoch, testAccuracy);
        if (!(seconds >= 0) || Double.isInfinite(seconds)) {
            throw new IllegalArgumentException("seconds of epoch " + epoch + " must be finite and >= 0, got "
                    + seconds);
        }
    }
}
