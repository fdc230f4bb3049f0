package org.lparemu.bench.report;

import com.google.protobuf.RuntimeVersion;
import io.grpc.internal.GrpcUtil;
import io.netty.channel.Channel;
import io.netty.util.Version;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.lparemu.wire.Transports;
import org.openjdk.jmh.runner.Runner;

/**
 * The machine a run measured: cores, CPU, memory, JDK and JVM flags, OS and kernel, library versions, the
 * transport the daemon used, and the commit.
 */
public record Machine(int cores, String cpusAllowed, String cpuModel, long memTotalBytes, String jdk, String jvm,
                      List<String> jvmArgs, long maxHeapBytes, String os, String kernel, String arch, String transport,
                      String netty, String protobuf, String grpc, String jmh, String gitCommit) {

    public static Machine detect() {
        Runtime rt = Runtime.getRuntime();
        return new Machine(rt.availableProcessors(), procStatus("Cpus_allowed_list"), readCpuModel(), memTotal(),
                System.getProperty("java.vendor") + " " + System.getProperty("java.runtime.version"),
                System.getProperty("java.vm.name") + " " + System.getProperty("java.vm.version"),
                ManagementFactory.getRuntimeMXBean().getInputArguments(), rt.maxMemory(),
                System.getProperty("os.name"), System.getProperty("os.version"), System.getProperty("os.arch"),
                Transports.name(), nettyVersion(), protobufVersion(),
                GrpcUtil.getGrpcBuildVersion().getImplementationVersion(), jmhVersion(), readGitCommit());
    }

    private static String procStatus(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key + ":")) {
                    return line.substring(key.length() + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return "unknown";
    }

    private static String readCpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return "unknown";
    }

    private static long memTotal() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return 0;
    }

    private static String nettyVersion() {
        var all = Version.identify();
        var v = all.get("netty-common");
        if (v == null && !all.isEmpty()) {
            v = all.values().iterator().next();
        }
        if (v != null) {
            return v.artifactVersion();
        }
        Package p = Channel.class.getPackage();
        return p != null && p.getImplementationVersion() != null ? p.getImplementationVersion() : "unknown";
    }

    /** The 1, 5 and 15 minute load averages (other work on a shared machine shows here), or "unknown". */
    public static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    private static String protobufVersion() {
        return RuntimeVersion.MAJOR + "." + RuntimeVersion.MINOR + "."
                + RuntimeVersion.PATCH;
    }

    public static String jmhVersion() {
        Package p = Runner.class.getPackage();
        String v = p == null ? null : p.getImplementationVersion();
        return v == null ? "1.37" : v;
    }

    /** The commit being measured (with "-dirty" for uncommitted changes), or "unknown" outside a git checkout. */
    private static String readGitCommit() {
        String head = git("rev-parse", "--short=12", "HEAD");
        if (head == null) {
            return "unknown";
        }
        // The harness's own output (left modified by an earlier run) is not a change to what is measured.
        String status = git("status", "--porcelain", "--untracked-files=no", "--", ".",
                ":(top,exclude)docs/benchmarks.md", ":(top,exclude)docs/benchmarks.json");
        return status != null && !status.isBlank() ? head + "-dirty" : head;
    }

    private static String git(String... args) {
        try {
            String[] cmd = new String[args.length + 1];
            cmd[0] = "git";
            System.arraycopy(args, 0, cmd, 1, args.length);
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                return null;
            }
            return out;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
