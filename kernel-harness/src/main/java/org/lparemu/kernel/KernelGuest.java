package org.lparemu.kernel;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The C guest (kguest) as a subprocess: Linux's own VAS and mobility code joined to a partition of a daemon.
 * The daemon talks to it over the guest port; this class talks to its user space over stdin/stdout (one
 * command per line, answered by id; see kguest_main.c) and keeps its console (stderr).
 *
 * <p>Each command runs on its own guest task in the C process, so an {@link #open} that a fault rule holds
 * does not stop the next command. A guest that loses the daemon (ProtocolError, closed connection) or dies
 * fails every pending command with {@link KernelHarnessException.Kind#GUEST_FAILED}, naming why.
 */
public final class KernelGuest implements AutoCloseable {
    /** How long to wait for the guest to boot. */
    public static final Duration BOOT = Duration.ofSeconds(30);
    private static final int CONSOLE_LIMIT = 256 * 1024;

    /** One answer line: {@code ID VERB key=value ...}. */
    public record Reply(String id, String verb, Map<String, String> fields, String line) {
        public String get(String key) {
            String v = fields.get(key);
            if (v == null) {
                throw new KernelHarnessException(KernelHarnessException.Kind.GUEST_FAILED, "no " + key + " in '" + line + "'");
            }
            return v;
        }

        public int getInt(String key) {
            return Integer.parseInt(get(key));
        }
    }

    /** The result of an open: the handle, or the ioctl's errno. */
    public record OpenResult(int handle, int rc, String error, long winId, int pid, int mmapRc) {
        public boolean ok() {
            return rc == 0;
        }
    }

    /** A handle's window as the guest's vas.c holds it. */
    public record WindowInfo(long winId, int status, boolean listed, long paste, int pid) {
    }

    /** vas.c's counters of one credit type. */
    public record Counters(boolean enabled, int total, int used, int open, int closed, int inProgress) {
    }

    /** The machine's counters: calls, CallRefused answers, the most calls ever in flight on one vCPU. */
    public record Stats(long hcalls, long rtas, long refused, long maxCallsPerVcpu, long maxRtasInFlight,
                        long stopMachines) {
    }

    private final Process process;
    private final OutputStream stdin;
    private final Map<String, CompletableFuture<Reply>> pending = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final StringBuilder console = new StringBuilder();
    private final CompletableFuture<Reply> ready = new CompletableFuture<>();
    private final Consumer<String> consoleSink;
    private volatile String lost;
    /** Completed when the stdout reader has read the guest's last line and recorded why it ended. */
    private final CompletableFuture<Void> stdoutDone = new CompletableFuture<>();
    private final String kernel;

    private KernelGuest(Process process, Consumer<String> consoleSink, String kernel) {
        this.process = process;
        this.stdin = process.getOutputStream();
        this.consoleSink = consoleSink;
        this.kernel = kernel;
        Thread out = new Thread(this::readStdout, "kguest-stdout");
        out.setDaemon(true);
        out.start();
        Thread err = new Thread(this::readStderr, "kguest-console");
        err.setDaemon(true);
        err.start();
    }

    /**
     * Starts a guest for {@code partition} on the daemon's guest port and waits until it has booted.
     *
     * @param clockScale real seconds per guest second (the kernel's msleep and back-offs)
     * @param consoleSink receives each console line as it comes (may be null)
     */
    public static KernelGuest start(KernelBuild.Built built, String host, int guestPort, String partition,
                                    double clockScale, String name, Consumer<String> consoleSink) {
        List<String> cmd = List.of(built.guest().toString(), "--connect", host + ":" + guestPort, "--partition",
                partition, "--clock-scale", Double.toString(clockScale), "--name", name);
        Process p;
        try {
            p = new ProcessBuilder(cmd).start();
        } catch (IOException e) {
            throw new KernelHarnessException(KernelHarnessException.Kind.GUEST_FAILED, "cannot start " + built.guest(), e);
        }
        KernelGuest g = new KernelGuest(p, consoleSink, built.column());
        try {
            g.ready.get(BOOT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            g.kill();
            throw new KernelHarnessException(KernelHarnessException.Kind.GUEST_FAILED,
                    "the " + built.column() + " guest did not boot within " + BOOT + "\n" + g.consoleTail(20));
        } catch (ExecutionException e) {
            g.kill();
            throw new KernelHarnessException(KernelHarnessException.Kind.GUEST_FAILED,
                    "the " + built.column() + " guest did not boot: " + e.getCause().getMessage() + "\n" + g.consoleTail(20));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            g.kill();
            throw new KernelHarnessException(KernelHarnessException.Kind.GUEST_FAILED, "interrupted while booting", e);
        }
        return g;
    }

    /** The kernel it runs ("linux-6.1.192"). */
    public String kernel() {
        return kernel;
    }

    /** The !ready line's fields (kernel, flavour, vcpus, system, initcall_failures). */
    public Reply bootInfo() {
        return ready.join();
    }

    // ---- commands

    /** Sends one command; the future completes with its answer, or fails when the guest is gone. */
    public CompletableFuture<Reply> command(String verb, Object... args) {
        String id = Long.toString(ids.incrementAndGet());
        CompletableFuture<Reply> f = new CompletableFuture<>();
        StringBuilder line = new StringBuilder(id).append(' ').append(verb);
        for (Object a : args) {
            String s = String.valueOf(a);
            if (s.isEmpty() || s.chars().anyMatch(Character::isWhitespace)) {
                throw new KernelHarnessException(KernelHarnessException.Kind.USAGE, "a guest command argument may not be "
                        + "empty or contain spaces: '" + s + "'");
            }
            line.append(' ').append(s);
        }
        pending.put(id, f);
        String gone = lost;
        if (gone != null) {
            pending.remove(id);
            f.completeExceptionally(new KernelHarnessException(KernelHarnessException.Kind.GUEST_FAILED, gone));
            return f;
        }
        try {
            synchronized (stdin) {
                stdin.write((line + "\n").getBytes(StandardCharsets.UTF_8));
                stdin.flush();
            }
        } catch (IOException e) {
            pending.remove(id);
            f.completeExceptionally(new KernelHarnessException(KernelHarnessException.Kind.GUEST_FAILED,
                    "the guest is gone: " + (lost != null ? lost : e.getMessage())));
        }
        return f;
    }

    /** A process named {@code task} opens an nx-gzip window (open, VAS_TX_WIN_OPEN, mmap). */
    public CompletableFuture<OpenResult> open(String task, boolean qos, int vasId) {
        return command("open", task, qos ? "qos" : "0", vasId).thenApply(r -> r.getInt("rc") == 0
                ? new OpenResult(r.getInt("handle"), 0, null, Long.parseLong(r.get("win")), r.getInt("pid"), r.getInt("mmap"))
                : new OpenResult(0, r.getInt("rc"), r.get("err"), 0, 0, 0));
    }

    /** A paste of {@code length} bytes by a thread {@code task} of the handle's process: "ok", "fail" or an errno. */
    public CompletableFuture<String> paste(String task, int handle, int length) {
        return command("paste", task, handle, length).thenApply(r -> r.get("result"));
    }

    /** munmap and close(2) by a thread {@code task} of the handle's process; the release's return value. */
    public CompletableFuture<Integer> close(String task, int handle) {
        return command("close", task, handle).thenApply(r -> r.getInt("rc"));
    }

    /** The handle's window, or null when the handle has none. */
    public WindowInfo window(int handle) {
        Reply r = await(command("window", handle), "window " + handle);
        if (r.fields().containsKey("none")) {
            return null;
        }
        return new WindowInfo(Long.parseLong(r.get("win")), r.getInt("status"), r.get("listed").equals("1"),
                Long.decode(r.get("paste")), r.getInt("pid"));
    }

    public Counters counters(int type) {
        Reply r = await(command("counters", type), "counters " + type);
        return new Counters(r.get("enabled").equals("1"), r.getInt("total"), r.getInt("used"), r.getInt("open"),
                r.getInt("closed"), r.getInt("progress"));
    }

    /** A sysfs write through the kernel's own store function: 0 or a negative errno. */
    public int sysfsWrite(String path, String value) {
        return await(command("sysfs-write", path, value), "sysfs-write " + path).getInt("rc");
    }

    public String sysfsRead(String path) {
        Reply r = await(command("sysfs-read", path), "sysfs-read " + path);
        return r.getInt("rc") == 0 ? r.get("value") : null;
    }

    /** Sends a GuestReport now. */
    public void report() {
        await(command("report"), "report");
    }

    public Stats stats() {
        Reply r = await(command("stats"), "stats");
        return new Stats(Long.parseLong(r.get("hcalls")), Long.parseLong(r.get("rtas")), Long.parseLong(r.get("refused")),
                Long.parseLong(r.get("max_calls_per_vcpu")), Long.parseLong(r.get("max_rtas_in_flight")),
                Long.parseLong(r.get("stop_machines")));
    }

    private static <T> T await(CompletableFuture<T> f, String what) {
        try {
            return f.get(30, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new KernelHarnessException(KernelHarnessException.Kind.GUEST_FAILED, what + ": no answer within 30 s");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r
                    : new KernelHarnessException(KernelHarnessException.Kind.GUEST_FAILED, what + ": " + e.getCause(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KernelHarnessException(KernelHarnessException.Kind.GUEST_FAILED, what + ": interrupted", e);
        }
    }

    // ---- the process

    /** Why the guest stopped (lost the daemon, died), or null while it runs. */
    public String lost() {
        return lost;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** Everything the guest's kernel printed (the last 256 KiB). */
    public String console() {
        synchronized (console) {
            return console.toString();
        }
    }

    public String consoleTail(int lines) {
        return KernelBuild.tail(console(), lines);
    }

    /** Ends the process at once (SIGKILL): its connection closes with whatever it had in flight. */
    public void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Asks the guest to quit; kills it if it does not within 5 s. Returns its exit status. */
    @Override
    public void close() {
        if (process.isAlive()) {
            command("quit");
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    kill();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                kill();
            }
        }
    }

    public int exitValue() {
        return process.exitValue();
    }

    /**
     * Waits for the process to end by itself and for its last output line to be read (so that {@link #lost()} says
     * why); true when both happened within the timeout.
     */
    public boolean awaitExit(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                return false;
            }
            stdoutDone.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException | TimeoutException e) {
            return false;
        }
    }

    private void readStdout() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.startsWith("!ready")) {
                    ready.complete(parse(line));
                } else if (line.startsWith("!lost")) {
                    lost = "the guest lost the daemon: " + line.substring(5).trim();
                } else if (!line.startsWith("!")) {
                    Reply r = parse(line);
                    CompletableFuture<Reply> f = pending.remove(r.id());
                    if (f != null) {
                        if (r.verb().equals("error")) {
                            f.completeExceptionally(new KernelHarnessException(KernelHarnessException.Kind.USAGE,
                                    "the guest refused the command: " + line));
                        } else {
                            f.complete(r);
                        }
                    }
                }
            }
        } catch (IOException e) {
            // the process is gone; handled below
        }
        try {
            process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        String why = lost != null ? lost : "the guest exited with status " + process.exitValue()
                + (process.exitValue() == 70 ? " (PANIC: a broken runtime invariant)" : "");
        lost = why;
        stdoutDone.complete(null);
        KernelHarnessException gone = new KernelHarnessException(KernelHarnessException.Kind.GUEST_FAILED,
                why + "\n" + consoleTail(15));
        ready.completeExceptionally(gone);
        for (String id : new ArrayList<>(pending.keySet())) {
            CompletableFuture<Reply> f = pending.remove(id);
            if (f != null) {
                f.completeExceptionally(gone);
            }
        }
    }

    private void readStderr() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                synchronized (console) {
                    console.append(line).append('\n');
                    if (console.length() > CONSOLE_LIMIT) {
                        console.delete(0, console.length() - CONSOLE_LIMIT);
                    }
                }
                if (consoleSink != null) {
                    consoleSink.accept(line);
                }
            }
        } catch (IOException e) {
            // the process is gone
        }
    }

    /** "ID VERB k=v k=v word" -> fields; a bare word becomes a key with an empty value; value= takes the rest. */
    static Reply parse(String line) {
        String[] words = line.split(" ");
        Map<String, String> fields = new LinkedHashMap<>();
        int valueAt = line.indexOf(" value=");
        int from = line.startsWith("!") ? 1 : 2;
        for (int i = from; i < words.length; i++) {
            String w = words[i];
            if (w.startsWith("value=") && valueAt >= 0) {
                fields.put("value", line.substring(valueAt + 7));
                break;
            }
            int eq = w.indexOf('=');
            if (eq > 0) {
                fields.put(w.substring(0, eq), w.substring(eq + 1));
            } else if (!w.isEmpty()) {
                fields.put(w, "");
            }
        }
        return new Reply(words[0], from == 1 ? words[0] : words.length > 1 ? words[1] : "", fields, line);
    }
}
