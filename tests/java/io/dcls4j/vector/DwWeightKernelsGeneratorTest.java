package io.dcls4j.vector;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The committed DwWeightKernels.java is exactly what its generator writes: edit the generator, not the file. */
class DwWeightKernelsGeneratorTest {
    @Test
    void theCommittedKernelsAreTheGeneratorsOutput() throws Exception {
        String committed = Files.readString(
                Path.of("java/dcls4j/src/main/java/io/dcls4j/vector/DwWeightKernels.java"));
        assertEquals(committed, DwWeightKernelsGenerator.generate(), "DwWeightKernels.java differs from the output of"
                + " DwWeightKernelsGenerator: regenerate it (see the generator's comment)");
    }
}
