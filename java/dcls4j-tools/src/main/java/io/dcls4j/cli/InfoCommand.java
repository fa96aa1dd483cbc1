package io.dcls4j.cli;

import io.dcls4j.Dcls;
import io.dcls4j.Device;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/**
 * {@code dcls4j info}: versions, CPU ISA, threads, where the native library was loaded from, and CUDA:
 * whether {@code libdcls_cuda.so} is there, the devices (or why there are none) and cuDNN.
 */
@Command(name = "info", mixinStandardHelpOptions = true, versionProvider = Versions.class,
        header = "Prints versions, the CPU ISA, threads, where the native library was loaded from, and CUDA.",
        description = "Prints the dcls4j and oneDNN versions, the CPU instruction set oneDNN uses, the thread"
                + " count, the native library location, the Java version, and whether the CUDA library is"
                + " there, its devices (or why there are none) and the cuDNN version.",
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
        cuda(out);
        out.flush();
        return Main.OK;
    }

    /** Never fails the command: a machine without CUDA is a normal answer. */
    private static void cuda(PrintWriter out) {
        if (!Device.cudaLibraryBundled()) {
            line(out, "CUDA", "not built (" + Device.cudaUnavailableReason() + ")");
            line(out, "cuDNN", "not built");
            return;
        }
        int n = Device.cudaDeviceCount();
        line(out, "CUDA", "libdcls_cuda.so, " + n + " device" + (n == 1 ? "" : "s")
                + (n == 0 ? " (" + Device.cudaUnavailableReason() + ")" : ""));
        for (int i = 0; i < n; i++) {
            line(out, "  cuda:" + i, describe(i));
        }
        String cudnn;
        try {
            cudnn = Device.cudnnVersion();
        } catch (RuntimeException e) {
            cudnn = "unavailable: " + e.getMessage();
        }
        line(out, "cuDNN", cudnn);
    }

    private static String describe(int device) {
        try {
            return Device.cuda(device).describe();
        } catch (RuntimeException e) {
            return "unknown: " + e.getMessage();
        }
    }

    private static void line(PrintWriter out, String key, String value) {
        out.printf("%-17s %s%n", key + ":", value);
    }
}
