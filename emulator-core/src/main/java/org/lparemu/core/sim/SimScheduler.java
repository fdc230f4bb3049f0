package org.lparemu.core.sim;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * One seeded scheduler for a whole simulated world: every guest task, the hypervisor's deferred work and timers,
 * and the operator's actions run under it, exactly one at a time, in an order its {@link Strategy} chooses at each
 * scheduling point. Time is virtual: it advances, to the next timer, only when nothing can run. A run is therefore
 * a function of (world, strategy, seed); its decisions, recorded, replay it exactly.
 *
 * <h2>How one thing runs at a time</h2>
 * Each task has a carrier thread ({@link CarrierPool}) but only the task holding the baton runs; the others are
 * parked. The running task gives the baton away only at a scheduling point ({@link #point}), when it blocks
 * ({@link #block}) or when it ends. The scheduler's state is touched only by the baton holder, so it needs no lock:
 * the handoff (a volatile write, then {@code unpark}) orders everything before it.
 *
 * <p>Hypervisor work queued on the platform's executor ({@link SimExecutor}) is a candidate like a task: when the
 * strategy picks it, the oldest queued item runs, on the baton holder's thread, under the task name
 * {@value #EVENT_TASK}.
 *
 * <h2>Ending a run</h2>
 * When nothing is runnable, no event is queued and no timer is due before the time limit, the run is over:
 * {@link Verdict#COMPLETED} if every non-daemon task finished, {@link Verdict#DEADLOCK} otherwise. A run that
 * takes more than the step bound ends as {@link Verdict#LIVELOCK}; a task that throws ends it as
 * {@link Verdict#TASK_FAILED}; an oracle can end it early ({@link #stop}). Then every task still parked is
 * unwound ({@link Teardown}) and its carrier returns to the pool.
 */
public final class SimScheduler {
    /** The task name hypervisor work runs under (it is not a guest task). */
    public static final String EVENT_TASK = "hypervisor";

    /** How a run ended. */
    public enum Verdict {
        /** Every non-daemon task finished and nothing was left to run. */
        COMPLETED,
        /** Nothing could run, yet a non-daemon task had not finished. */
        DEADLOCK,
        /** The step bound was reached (a polling loop that never ends, or a schedule that starves progress). */
        LIVELOCK,
        /** A task threw. */
        TASK_FAILED,
        /** An oracle stopped the run ({@link #stop}). */
        STOPPED
    }

    /** Unwinds a parked task when its run is torn down: an Error, so no kernel code catches it. */
    static final class Teardown extends Error {
        private static final long serialVersionUID = 1L;

        Teardown() {
            super("simulation torn down", null, false, false);
        }
    }

    enum State { RUNNABLE, BLOCKED, DONE }

    /** A simulated task: a guest kthread or user task, a stop_machine stopper, an operator actor. */
    public static final class Task {
        final int id;
        final String name;
        final boolean daemon;
        final Runnable body;
        State state = State.RUNNABLE;
        /** The baton: set by the giver, cleared by this task when it takes it. */
        volatile boolean turn;
        CarrierPool.Carrier carrier;
        /** What it waits for while BLOCKED (for deadlock reports). */
        String waitingFor = "";
        /** Incremented at every block: a wake-up for an older block is stale and ignored. */
        int blockToken;
        /** The strategy's per-task state (PCT and POS priorities). */
        double priority;
        /** The machine's per-task state ({@link SimMachine}). */
        Object machineState;

        Task(int id, String name, boolean daemon, Runnable body) {
            this.id = id;
            this.name = name;
            this.daemon = daemon;
            this.body = body;
        }

        public String name() {
            return name;
        }

        public int id() {
            return id;
        }

        public boolean done() {
            return state == State.DONE;
        }

        @Override
        public String toString() {
            return name + "#" + id + " " + state + (state == State.BLOCKED ? " (" + waitingFor + ")" : "");
        }
    }

    /** Wakes one blocked task, once; a stale waker (the task has blocked again since) does nothing. */
    public static final class Waker {
        private final Task task;
        private final int token;

        Waker(Task task, int token) {
            this.task = task;
            this.token = token;
        }

        public void wake() {
            if (task.state == State.BLOCKED && task.blockToken == token) {
                task.state = State.RUNNABLE;
                task.waitingFor = "";
            }
        }

        public Task task() {
            return task;
        }
    }

    /** A timer: at {@code deadline}, run {@code action} (enqueue an event, or wake a task). */
    private static final class Timer implements Comparable<Timer> {
        final long deadline;
        final long seq;
        final Runnable action;
        boolean cancelled;

        Timer(long deadline, long seq, Runnable action) {
            this.deadline = deadline;
            this.seq = seq;
            this.action = action;
        }

        @Override
        public int compareTo(Timer o) {
            int c = Long.compare(deadline, o.deadline);
            return c != 0 ? c : Long.compare(seq, o.seq);
        }
    }

    /** A cancellable handle on a scheduled timer. */
    public static final class TimerHandle {
        private final Timer timer;

        TimerHandle(Timer timer) {
            this.timer = timer;
        }

        public boolean cancel() {
            if (timer.cancelled || timer.deadline < 0) {
                return false;
            }
            timer.cancelled = true;
            return true;
        }

        public boolean cancelled() {
            return timer.cancelled;
        }

        public long deadline() {
            return timer.deadline;
        }
    }

    private final Strategy strategy;
    private final CarrierPool carriers;
    private final long maxSteps;
    private final long timeLimitNanos;
    private final List<Task> tasks = new ArrayList<>();
    private final ArrayDeque<Runnable> events = new ArrayDeque<>();
    private final PriorityQueue<Timer> timers = new PriorityQueue<>();
    private final ScheduleLog log = new ScheduleLog();
    private final List<Consumer<SimScheduler>> stepListeners = new ArrayList<>();
    private Runnable quiescenceHook;
    private boolean quiescenceSeen;
    /** Reused by {@link #choose}: the candidates of the current decision. */
    private final List<Task> candidates = new ArrayList<>();

    private long now;
    private long timerSeq;
    private long steps;
    private Task running;
    private boolean inEvent;
    private Thread driver;
    private volatile boolean finished;
    private boolean tearingDown;
    private Verdict verdict;
    private String verdictDetail = "";
    private Throwable failure;

    /**
     * @param strategy       chooses at every decision
     * @param carriers       where task threads come from (shared across runs)
     * @param maxSteps       decisions before the run is called a livelock
     * @param timeLimitNanos virtual time beyond which timers do not fire (the run ends there)
     */
    public SimScheduler(Strategy strategy, CarrierPool carriers, long maxSteps, long timeLimitNanos) {
        this.strategy = strategy;
        this.carriers = carriers;
        this.maxSteps = maxSteps;
        this.timeLimitNanos = timeLimitNanos;
    }

    // ------------------------------------------------------------------------------------------------------------
    // what tasks and the machine call

    /** Virtual time in nanoseconds since the run began. */
    public long now() {
        return now;
    }

    /** The task running now (the baton holder), or null on the driver before the run starts. */
    public Task current() {
        return running;
    }

    /** Whether hypervisor work (an event) is running now rather than a task. */
    public boolean inEvent() {
        return inEvent;
    }

    /**
     * A new task, runnable at once (it runs when the strategy picks it). A daemon task (a workqueue worker) may
     * still be blocked when the run ends; any other must finish.
     */
    public Task spawn(String name, boolean daemon, Runnable body) {
        Task t = new Task(tasks.size(), name, daemon, body);
        tasks.add(t);
        strategy.onSpawn(t, this);
        t.carrier = carriers.take();
        t.carrier.start(this, t);
        return t;
    }

    /** A scheduling point of the running task: the strategy may run something else first. */
    public void point(String label) {
        Task me = checkedRunning();
        log.point(me, label, now);
        reschedule(me);
    }

    /**
     * Blocks the running task until a {@link Waker} made here wakes it and the strategy picks it again. The
     * waker is handed to {@code register} before the task gives the baton away (register it where the wake-up will
     * come from).
     */
    public void block(String waitingFor, Consumer<Waker> register) {
        Task me = checkedRunning();
        me.state = State.BLOCKED;
        me.waitingFor = waitingFor;
        me.blockToken++;
        register.accept(new Waker(me, me.blockToken));
        if (me.state == State.BLOCKED) {
            log.point(me, "wait " + waitingFor, now);
        }
        reschedule(me);
    }

    /** Blocks the running task for {@code nanos} of virtual time. */
    public void sleep(long nanos, String label) {
        block(label, w -> schedule(Math.max(0, nanos), w::wake));
    }

    /** Queues hypervisor work: it runs when the strategy picks the event queue. */
    public void execute(Runnable event) {
        events.add(event);
    }

    /** Runs {@code action} (on the baton holder's thread, as an event) at {@code now + delayNanos}. */
    public TimerHandle schedule(long delayNanos, Runnable action) {
        Timer t = new Timer(now + Math.max(0, delayNanos), timerSeq++, action);
        timers.add(t);
        return new TimerHandle(t);
    }

    /** Called after every step (by the baton holder): oracles. */
    public void onStep(Consumer<SimScheduler> listener) {
        stepListeners.add(listener);
    }

    /**
     * Called once, by the baton holder, the first time nothing is left to run and every non-daemon task has
     * finished; it may spawn tasks (the quiescent oracles run in one), and the run goes on until they end.
     */
    public void onQuiescence(Runnable hook) {
        quiescenceHook = hook;
    }

    /** Ends the run now with {@link Verdict#STOPPED} (an oracle found a violation). */
    public void stop(String why) {
        if (verdict == null) {
            verdict = Verdict.STOPPED;
            verdictDetail = why;
        }
    }

    public long steps() {
        return steps;
    }

    public ScheduleLog log() {
        return log;
    }

    public List<Task> tasks() {
        return Collections.unmodifiableList(tasks);
    }

    // ------------------------------------------------------------------------------------------------------------
    // the driver

    /**
     * Runs the world until it ends; call on the driver thread after spawning the first tasks. Returns once every
     * task has been unwound.
     */
    public Verdict run() {
        if (driver != null) {
            throw new IllegalStateException("a scheduler runs once");
        }
        driver = Thread.currentThread();
        strategy.onStart(this);
        Task first = choose(null);
        if (first != null) {
            handTo(first);
            while (!finished) {
                LockSupport.park(this);
            }
        }
        teardown();
        return verdict;
    }

    public Verdict verdict() {
        return verdict;
    }

    public String verdictDetail() {
        return verdictDetail;
    }

    /** What a task threw ({@link Verdict#TASK_FAILED}). */
    public Throwable failure() {
        return failure;
    }

    // ------------------------------------------------------------------------------------------------------------
    // carriers call these

    /** The carrier of {@code t} waits here for the baton the first time. */
    void awaitFirstTurn(Task t) {
        awaitTurn(t);
    }

    /** {@code t}'s body returned or threw. */
    void exited(Task t, Throwable thrown) {
        if (thrown instanceof Teardown) {
            return;
        }
        t.state = State.DONE;
        if (thrown != null && verdict == null) {
            verdict = Verdict.TASK_FAILED;
            failure = thrown;
            verdictDetail = t.name + " threw " + thrown;
        }
        if (tearingDown) {
            return;
        }
        log.point(t, "exit", now);
        reschedule(t);
    }

    // ------------------------------------------------------------------------------------------------------------
    // scheduling

    private Task checkedRunning() {
        Task me = running;
        if (tearingDown) {
            throw new Teardown();
        }
        if (me == null || me.carrier == null || me.carrier.thread() != Thread.currentThread() || inEvent) {
            throw new IllegalStateException("not called by the running simulated task (" + Thread.currentThread()
                    .getName() + ", running " + me + (inEvent ? ", in an event" : "") + ")");
        }
        return me;
    }

    /**
     * The running task {@code me} (runnable, blocked or done) gives the strategy a decision; returns when {@code me}
     * runs again (at once if it is picked).
     */
    private void reschedule(Task me) {
        Task next = choose(me);
        if (next == me) {
            return;
        }
        if (next == null) {
            end();
        } else {
            handTo(next);
        }
        if (me.state != State.DONE) {
            awaitTurn(me);
        }
    }

    /** Runs oracles and events and fires timers until a task is chosen (null: the run is over). */
    private Task choose(Task me) {
        while (true) {
            if (verdict != null) {
                return null;
            }
            for (Consumer<SimScheduler> l : stepListeners) {
                l.accept(this);
            }
            if (verdict != null) {
                return null;
            }
            candidates.clear();
            for (Task t : tasks) {
                if (t.state == State.RUNNABLE) {
                    candidates.add(t);
                }
            }
            boolean eventReady = !events.isEmpty();
            if (candidates.isEmpty() && !eventReady) {
                if (fireTimers()) {
                    continue;
                }
                boolean allDone = true;
                for (Task t : tasks) {
                    if (!t.daemon && t.state != State.DONE) {
                        allDone = false;
                    }
                }
                if (allDone && quiescenceHook != null && !quiescenceSeen) {
                    quiescenceSeen = true;
                    quiescenceHook.run();
                    continue;
                }
                if (!allDone) {
                    StringBuilder blocked = new StringBuilder("blocked:");
                    for (Task t : tasks) {
                        if (!t.daemon && t.state != State.DONE) {
                            blocked.append(' ').append(t);
                        }
                    }
                    verdictDetail = blocked.toString();
                }
                verdict = allDone ? Verdict.COMPLETED : Verdict.DEADLOCK;
                return null;
            }
            if (++steps > maxSteps) {
                verdict = Verdict.LIVELOCK;
                verdictDetail = "no end after " + maxSteps + " steps";
                return null;
            }
            Task current = me != null && me.state == State.RUNNABLE ? me : null;
            int fallback = current != null ? candidates.indexOf(current) : eventReady ? candidates.size() : 0;
            int pick = strategy.pick(candidates, eventReady, current, this);
            if (pick < 0 || pick > candidates.size() || (pick == candidates.size() && !eventReady)) {
                throw new IllegalStateException(strategy.name() + " picked " + pick + " of " + candidates.size()
                        + (eventReady ? " + events" : ""));
            }
            if (pick == candidates.size()) {
                log.decision(EVENT_TASK, Strategies.Guided.EVENT, current != null, pick == fallback, now);
                runEvent();
                continue;
            }
            Task chosen = candidates.get(pick);
            log.decision(chosen.name, chosen.id, current != null && chosen != current, pick == fallback, now);
            return chosen;
        }
    }

    private void runEvent() {
        Runnable e = events.poll();
        Thread self = Thread.currentThread();
        String name = self.getName();
        inEvent = true;
        self.setName(EVENT_TASK);
        try {
            e.run();
        } catch (Teardown t) {
            throw t;
        } catch (RuntimeException | Error ex) {
            if (verdict == null) {
                verdict = Verdict.TASK_FAILED;
                failure = ex;
                verdictDetail = "hypervisor work threw " + ex;
            }
        } finally {
            inEvent = false;
            self.setName(name);
        }
    }

    /** Advances time to the next live timer and fires every timer due then; false when none is due in time. */
    private boolean fireTimers() {
        Timer t = timers.peek();
        while (t != null && t.cancelled) {
            timers.poll();
            t = timers.peek();
        }
        if (t == null || t.deadline > timeLimitNanos) {
            return false;
        }
        now = Math.max(now, t.deadline);
        while (!timers.isEmpty() && timers.peek().deadline <= now) {
            Timer due = timers.poll();
            if (!due.cancelled) {
                due.cancelled = true;
                inEvent = true;
                try {
                    due.action.run();
                } finally {
                    inEvent = false;
                }
            }
        }
        return true;
    }

    private void handTo(Task next) {
        running = next;
        next.turn = true;
        LockSupport.unpark(next.carrier.thread());
    }

    private void awaitTurn(Task me) {
        while (!me.turn) {
            LockSupport.park(this);
        }
        me.turn = false;
        if (tearingDown) {
            throw new Teardown();
        }
    }

    /** The run is over: wake the driver. Called by the baton holder. */
    private void end() {
        running = null;
        finished = true;
        LockSupport.unpark(driver);
    }

    /** On the driver: unwind every task still parked, one at a time, and wait for each carrier to come back. */
    private void teardown() {
        tearingDown = true;
        for (Task t : tasks) {
            if (t.state != State.DONE && t.carrier != null) {
                running = t;
                t.turn = true;
                LockSupport.unpark(t.carrier.thread());
                t.carrier.awaitReturned();
                t.state = State.DONE;
            }
        }
        running = null;
    }
}
