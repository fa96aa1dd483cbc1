package io.dcls4j.dist;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Fails when the headers of the MPI and NCCL bindings (bindings/io/dcls4j/ffi/mpi, .../nccl) changed since they
 * were generated: run scripts/regenerate-dist-bindings.sh (bindings/README.md).
 */
class DistBindingsUpToDateTest {
    static final Path DEBIAN_MPI_H = Path.of("/usr/lib/x86_64-linux-gnu/openmpi/include/mpi.h");

    private static void assertHash(Path header, Path recordedFile) throws Exception {
        String actual = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(header)));
        String recorded = Files.readString(recordedFile).trim().split("\\s+")[0];
        assertEquals(recorded, actual, header + " differs from the header the bindings were generated from:"
                + " run scripts/regenerate-dist-bindings.sh (bindings/README.md)");
    }

    @Test
    void ourNcclDeclarationsMatchTheirBindings() throws Exception {
        assertHash(Path.of("native/dist/dcls_nccl.h"), Path.of("bindings/dcls_nccl.h.sha256"));
    }

    @Test
    void theInstalledOpenMpiHeaderIsTheOneTheBindingsCameFrom() throws Exception {
        assumeTrue(Files.exists(DEBIAN_MPI_H), "Open MPI's header is not installed (apt-get install libopenmpi-dev)");
        assertHash(DEBIAN_MPI_H, Path.of("bindings/mpi.h.sha256"));
    }
}
