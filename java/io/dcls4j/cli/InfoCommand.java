package io.dcls4j.cli;

import io.dcls4j.Dcls;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** {@code dcls4j info}: versions, CPU ISA, threads and where the native library was loaded from. */
@Command(name = "info", mixinStandardHelpOptions = true, versionProvider = Versions.class,
        header = "Prints versions, the CPU ISA, threads and where the native library was loaded from.",
        description = "Prints the dcls4j and oneDNN versions, the CPU instruction set oneDNN uses, the thread"
                + " count, the native library location and the Java version.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "1:the native library could not be loaded", "2:usage error"})
public final class InfoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        line(out, "dcls4j", Versions.dcls4j());
        line(out, "native library", Dcls.nativeVersion());
        line(out, "oneDNN", Dcls.oneDnnVersion());
        line(out, "CPU ISA", Dcls.cpuIsa());
        line(out, "threads", Integer.toString(Dcls.numThreads()));
        line(out, "library location", Dcls.libraryLocation());
        line(out, "Java", System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ", "
                + System.getProperty("java.vendor") + ")");
        line(out, "OS", System.getProperty("os.name") + " " + System.getProperty("os.arch") + ", "
                + Runtime.getRuntime().availableProcessors() + " processors");
        line(out, "CUDA", "not built");
        line(out, "cuDNN", "not built");
        out.flush();
        return Main.OK;
    }

    private static void line(PrintWriter out, String key, String value) {
        out.printf("%-17s %s%n", key + ":", value);
    }
}
