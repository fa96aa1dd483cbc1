package io.dcls4j.cli;

import io.dcls4j.Device;
import io.dcls4j.Interpolation;
import io.dcls4j.internal.Cuda;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line in-process: help, exit codes, info, and a short demo that writes both PNGs. */
class MainTest {
    @TempDir
    Path dir;

    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void helpListsTheSubcommandsAndExitCodes() {
        for (String help : new String[] {"--help", "-h"}) {
            Run r = run(help);
            assertEquals(0, r.code(), r.err());
            for (String s : new String[] {"demo", "bench", "info", "Exit codes", "2", "usage error"}) {
                assertTrue(r.out().contains(s), "help should mention " + s + ":\n" + r.out());
            }
        }
        Run version = run("--version");
        assertEquals(0, version.code());
        assertTrue(version.out().startsWith("dcls4j "), version.out());
    }

    @Test
    void everySubcommandHasHelp() {
        for (String command : new String[] {"demo", "bench", "info"}) {
            Run r = run(command, "--help");
            assertEquals(0, r.code(), command + ": " + r.err());
            assertTrue(r.out().contains("Usage: dcls4j " + command), r.out());
        }
        Run demo = run("demo", "--help");
        for (String option : new String[] {"--dims", "--interpolation", "--steps", "--seed", "--output", "--threads",
                "Exit codes"}) {
            assertTrue(demo.out().contains(option), "demo help should mention " + option);
        }
        assertEquals(0, run("help", "demo").code());
    }

    @Test
    void usageErrorsExitWithTwo() {
        Run none = run();
        assertEquals(2, none.code());
        assertTrue(none.err().contains("Missing subcommand"), none.err());
        assertEquals(2, run("bogus").code());
        assertEquals(2, run("demo", "--no-such-option").code());
        assertEquals(2, run("demo", "--steps", "many").code());
        Run dims = run("demo", "--dims", "3", "--output", dir.toString());
        assertEquals(2, dims.code());
        assertTrue(dims.err().contains("--dims must be 1 or 2"), dims.err());
        Run interp = run("demo", "--interpolation", "cubic");
        assertEquals(2, interp.code());
        assertTrue(interp.err().contains("v0, v1, max, gauss"), interp.err());
        assertEquals(2, run("demo", "--steps", "0").code());
        assertEquals(2, run("demo", "--threads", "-1").code());
        assertTrue(Files.notExists(dir.resolve("positions.png")));
    }

    @Test
    void interpolationNamesAreTheReferenceOnesOrTheEnumOnes() {
        var c = new DemoCommand.InterpolationConverter();
        assertEquals(Interpolation.BILINEAR, c.convert("v0"));
        assertEquals(Interpolation.TRIANGLE, c.convert("V1"));
        assertEquals(Interpolation.TRIANGLE_LEARNED_WIDTH, c.convert("max"));
        assertEquals(Interpolation.GAUSSIAN, c.convert("gauss"));
        assertEquals(Interpolation.GAUSSIAN, c.convert("GAUSSIAN"));
        assertEquals(Interpolation.TRIANGLE_LEARNED_WIDTH, c.convert("triangle_learned_width"));
    }

    @Test
    void infoPrintsVersionsAndTheLibrary() {
        Run r = run("info");
        assertEquals(0, r.code(), r.err());
        for (String s : new String[] {"dcls4j:", "oneDNN:", "CPU ISA:", "threads:", "library location:", "Java:",
                "CUDA:", "cuDNN:"}) {
            assertTrue(r.out().contains(s), "info should print " + s + ":\n" + r.out());
        }
        // where the jar has libdcls_cuda.so: the device count (or why there is none), else "not built"
        boolean bundled = Main.class.getResource("/io/dcls4j/native/linux-x86_64/libdcls_cuda.so") != null;
        int devices = Device.cudaDeviceCount();
        String cuda = String.format("%-17s %s", "CUDA:", !bundled ? "not built (libdcls_cuda.so is not in the jar)"
                : "libdcls_cuda.so, " + devices + " device" + (devices == 1 ? "" : "s")
                + (devices == 0 ? " (" + Cuda.noDeviceReason() + ")" : ""));
        assertTrue(r.out().contains(cuda + System.lineSeparator()), "info should print " + cuda + ":\n" + r.out());
        for (int i = 0; i < devices; i++) {
            assertTrue(r.out().contains("  cuda:" + i + ": "), r.out());
        }
        assertTrue(r.out().contains(System.getProperty("java.version")));
    }

    @Test
    void aShortDemoWritesBothPngsAndFailsItsTarget() throws Exception {
        Path out = dir.resolve("demo");
        Run r = run("demo", "--steps", "40", "--seed", "3", "--threads", "1", "--output", out.toString());
        // 40 steps are far too few to find the positions: exit code 1, but both images are written
        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("step 40/40"), r.out());
        assertTrue(r.out().contains("position error"), r.out());
        assertTrue(r.err().contains("did not recover"), r.err());
        for (String png : new String[] {"positions.png", "loss.png"}) {
            BufferedImage image = ImageIO.read(out.resolve(png).toFile());
            assertNotNull(image, png);
            assertTrue(image.getWidth() >= 800 && image.getHeight() >= 400, png);
        }
        Run oneD = run("demo", "--dims", "1", "--interpolation", "v1", "--steps", "20", "--threads", "1",
                "--output", out.toString());
        assertEquals(1, oneD.code(), oneD.out() + oneD.err());
        assertNotNull(ImageIO.read(out.resolve("positions.png").toFile()));
    }

    @Test
    void theDemoRecoversThePositions() {
        // the full default run is the main job (./run.sh demo); here a seed other than the default, in 2D
        Demo.Result r = Demo.run(new Demo.Config(2, Interpolation.GAUSSIAN, Demo.DEFAULT_STEPS, 7), null);
        assertTrue(r.error() <= DemoCommand.TOLERANCE, "position error " + r.error());
        assertEquals(Demo.IN * Demo.OUT * Demo.TAPS, r.taps());
    }
}
