package org.lparemu.core.port;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.RtasStatus;

/**
 * A programmable {@link HcallPort} for unit tests: per-opcode (and per-RTAS-service) scripted answers consumed
 * in order, then a handler, then a default (H_FUNCTION, RTAS parameter error); a record of every call with the
 * calling thread's name; calls that block on a latch until the test releases them; and event delivery with
 * recorded acks and reports that tests can wait for.
 *
 * <p>Thread-safe: guest threads call it concurrently. Handlers run on the calling guest thread.
 */
public final class ScriptedHcallPort implements HcallPort {

    /** One recorded hcall. */
    public record Call(int vcpu, long opcode, long[] args, byte[] buffer, String thread) {
        public long arg(int i) {
            return i < args.length ? args[i] : 0;
        }

        @Override
        public String toString() {
            return thread + "@vcpu" + vcpu + " " + Hcall.name(opcode) + Arrays.toString(args);
        }
    }

    /** One recorded RTAS call; {@code workArea} is a copy of what the guest passed in. */
    public record RtasCall(int vcpu, String service, long[] args, byte[] workArea, String thread) {
        public long arg(int i) {
            return i < args.length ? args[i] : 0;
        }

        @Override
        public String toString() {
            return thread + "@vcpu" + vcpu + " " + service + Arrays.toString(args);
        }
    }

    public record Ack(long eventId, int status, String detail) {
    }

    @FunctionalInterface
    public interface HcallHandler {
        HcallResult handle(Call call) throws InterruptedException;
    }

    @FunctionalInterface
    public interface RtasHandler {
        RtasResult handle(RtasCall call) throws InterruptedException;
    }

    /**
     * A parked call: the guest thread signals {@link #awaitEntered} and waits until {@link #release()}; then the
     * call is answered normally (script, handler or default).
     */
    public static final class Block {
        private final Predicate<Object> match;
        private final CountDownLatch entered = new CountDownLatch(1);
        private final CountDownLatch release = new CountDownLatch(1);
        private volatile Thread thread;

        private Block(Predicate<Object> match) {
            this.match = match;
        }

        /** Waits until a guest thread is parked here. */
        public boolean awaitEntered(Duration timeout) throws InterruptedException {
            return entered.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        }

        public boolean entered() {
            return entered.getCount() == 0;
        }

        /** The parked guest thread, once entered. */
        public Thread thread() {
            return thread;
        }

        public void release() {
            release.countDown();
        }

        private void park() throws InterruptedException {
            thread = Thread.currentThread();
            entered.countDown();
            release.await();
        }
    }

    private final Object lock = new Object();
    private volatile BootInfo bootInfo;
    private final Map<Long, Deque<HcallResult>> scripts = new HashMap<>();
    private final Map<Long, HcallHandler> handlers = new HashMap<>();
    private final Map<String, Deque<RtasResult>> rtasScripts = new HashMap<>();
    private final Map<String, RtasHandler> rtasHandlers = new HashMap<>();
    private final List<Block> blocks = new ArrayList<>();
    private final List<Call> calls = new ArrayList<>();
    private final List<RtasCall> rtasCalls = new ArrayList<>();
    private final List<Ack> acks = new ArrayList<>();
    private final List<GuestReport> reports = new ArrayList<>();
    private final List<PlatformEvent> undelivered = new ArrayList<>();
    private volatile PlatformEventListener listener;
    private volatile boolean open = true;

    public ScriptedHcallPort(BootInfo bootInfo) {
        this.bootInfo = bootInfo;
    }

    // --- programming

    /** Answers for the next calls of {@code opcode}, in order, before the handler. */
    public ScriptedHcallPort script(long opcode, HcallResult... results) {
        synchronized (lock) {
            scripts.computeIfAbsent(opcode, k -> new ArrayDeque<>()).addAll(Arrays.asList(results));
        }
        return this;
    }

    public ScriptedHcallPort on(long opcode, HcallHandler h) {
        synchronized (lock) {
            handlers.put(opcode, h);
        }
        return this;
    }

    public ScriptedHcallPort scriptRtas(String service, RtasResult... results) {
        synchronized (lock) {
            rtasScripts.computeIfAbsent(service, k -> new ArrayDeque<>()).addAll(Arrays.asList(results));
        }
        return this;
    }

    public ScriptedHcallPort onRtas(String service, RtasHandler h) {
        synchronized (lock) {
            rtasHandlers.put(service, h);
        }
        return this;
    }

    /** Parks the next call of {@code opcode} (one call). */
    public Block block(long opcode) {
        return block(c -> c instanceof Call call && call.opcode() == opcode);
    }

    /** Parks the next call of {@code opcode} made by a thread named {@code thread}. */
    public Block block(long opcode, String thread) {
        return block(c -> c instanceof Call call && call.opcode() == opcode && call.thread().equals(thread));
    }

    /** Parks the next call of an RTAS service. */
    public Block blockRtas(String service) {
        return block(c -> c instanceof RtasCall call && call.service().equals(service));
    }

    private Block block(Predicate<Object> match) {
        Block b = new Block(match);
        synchronized (lock) {
            blocks.add(b);
        }
        return b;
    }

    public void setBootInfo(BootInfo b) {
        this.bootInfo = b;
    }

    // --- HcallPort

    @Override
    public BootInfo bootInfo() {
        return bootInfo;
    }

    @Override
    public HcallResult hcall(int vcpu, long opcode, long[] args, byte[] buffer, boolean interruptsDisabled) {
        checkOpen();
        Call call = new Call(vcpu, opcode, args == null ? new long[0] : args.clone(), buffer == null ? null : buffer.clone(),
                Thread.currentThread().getName());
        HcallResult scripted;
        HcallHandler handler;
        Block block;
        synchronized (lock) {
            calls.add(call);
            block = takeBlock(call);
        }
        try {
            if (block != null) {
                block.park();
            }
            synchronized (lock) {
                Deque<HcallResult> q = scripts.get(opcode);
                scripted = q == null ? null : q.poll();
                handler = handlers.get(opcode);
            }
            if (scripted != null) {
                return scripted;
            }
            return handler != null ? handler.handle(call) : HcallResult.of(HStatus.H_FUNCTION);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PortException("interrupted in " + Hcall.name(opcode), e);
        }
    }

    @Override
    public CompletableFuture<HcallResult> hcallAsync(int vcpu, long opcode, long[] args, byte[] buffer,
                                                     boolean interruptsDisabled) {
        try {
            return CompletableFuture.completedFuture(hcall(vcpu, opcode, args, buffer, interruptsDisabled));
        } catch (PortException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public RtasResult rtas(int vcpu, String service, long[] args, byte[] workArea) {
        checkOpen();
        RtasCall call = new RtasCall(vcpu, service, args == null ? new long[0] : args.clone(),
                workArea == null ? null : workArea.clone(), Thread.currentThread().getName());
        RtasResult scripted;
        RtasHandler handler;
        Block block;
        synchronized (lock) {
            rtasCalls.add(call);
            block = takeBlock(call);
        }
        try {
            if (block != null) {
                block.park();
            }
            synchronized (lock) {
                Deque<RtasResult> q = rtasScripts.get(service);
                scripted = q == null ? null : q.poll();
                handler = rtasHandlers.get(service);
            }
            if (scripted != null) {
                return scripted;
            }
            return handler != null ? handler.handle(call) : RtasResult.of(RtasStatus.PARAMETER_ERROR);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PortException("interrupted in " + service, e);
        }
    }

    @Override
    public CompletableFuture<RtasResult> rtasAsync(int vcpu, String service, long[] args, byte[] workArea) {
        try {
            return CompletableFuture.completedFuture(rtas(vcpu, service, args, workArea));
        } catch (PortException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private Block takeBlock(Object call) {
        for (int i = 0; i < blocks.size(); i++) {
            if (blocks.get(i).match.test(call)) {
                return blocks.remove(i);
            }
        }
        return null;
    }

    @Override
    public void setEventListener(PlatformEventListener l) {
        List<PlatformEvent> backlog;
        synchronized (lock) {
            listener = l;
            backlog = new ArrayList<>(undelivered);
            undelivered.clear();
        }
        backlog.forEach(l::onEvent);
    }

    /** Delivers an event on the calling thread, as the port's transport thread would. */
    public void deliver(PlatformEvent e) {
        PlatformEventListener l;
        synchronized (lock) {
            l = listener;
            if (l == null) {
                undelivered.add(e);
                return;
            }
        }
        l.onEvent(e);
    }

    @Override
    public void ackEvent(long eventId, int status, String detail) {
        synchronized (lock) {
            acks.add(new Ack(eventId, status, detail));
            lock.notifyAll();
        }
    }

    @Override
    public void report(GuestReport report) {
        synchronized (lock) {
            reports.add(report);
            lock.notifyAll();
        }
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public void close() {
        open = false;
    }

    private void checkOpen() {
        if (!open) {
            throw new PortException("port closed");
        }
    }

    // --- inspection

    public List<Call> calls() {
        synchronized (lock) {
            return List.copyOf(calls);
        }
    }

    public List<Call> calls(long opcode) {
        List<Call> out = new ArrayList<>();
        for (Call c : calls()) {
            if (c.opcode() == opcode) {
                out.add(c);
            }
        }
        return out;
    }

    public int count(long opcode) {
        return calls(opcode).size();
    }

    public List<RtasCall> rtasCalls() {
        synchronized (lock) {
            return List.copyOf(rtasCalls);
        }
    }

    public List<RtasCall> rtasCalls(String service) {
        List<RtasCall> out = new ArrayList<>();
        for (RtasCall c : rtasCalls()) {
            if (c.service().equals(service)) {
                out.add(c);
            }
        }
        return out;
    }

    /** Forgets recorded calls (scripts, handlers and blocks stay). */
    public void clearCalls() {
        synchronized (lock) {
            calls.clear();
            rtasCalls.clear();
        }
    }

    public List<Ack> acks() {
        synchronized (lock) {
            return List.copyOf(acks);
        }
    }

    public List<GuestReport> reports() {
        synchronized (lock) {
            return List.copyOf(reports);
        }
    }

    /** Waits (real time, bounded) for the ack of an event; null on timeout. */
    public Ack awaitAck(long eventId, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            while (true) {
                for (Ack a : acks) {
                    if (a.eventId() == eventId) {
                        return a;
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return null;
                }
                lock.wait(Math.max(1, left / 1_000_000));
            }
        }
    }
}
