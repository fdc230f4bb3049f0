package org.lparemu.core.hypervisor;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.lparemu.core.fault.CallInfo;
import org.lparemu.core.fault.FaultAction;
import org.lparemu.core.fault.FaultPlan;
import org.lparemu.core.fault.Holds;
import org.lparemu.core.fault.When;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.port.CallRefusal;
import org.lparemu.core.port.CallResult;
import org.lparemu.core.port.HcallResult;
import org.lparemu.core.port.PortException;
import org.lparemu.core.port.RtasResult;
import org.lparemu.core.trace.TraceKind;
import org.lparemu.core.trace.TraceRing;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The call pipeline: every guest hcall and RTAS call, from whichever transport, goes through {@link #dispatch}.
 *
 * <p>Steps: admission (the vCPU is free and running, and no other RTAS call is in flight: {@link VcpuTable};
 * otherwise a REFUSED trace record and a {@link CallRefusal}, and nothing else happens) -> CALL_BEGIN trace record
 * -> the fault plan's BEFORE actions in rule order (Delay, Hold, Trigger; a ReturnStatus answers instead of the
 * handler; Disconnect closes the caller) -> the handler from the {@link DispatchTable} under the partition lock
 * (no handler: H_FUNCTION / RTAS parameter error) -> the AFTER actions -> CALL_END trace record -> the vCPU is
 * free again -> the answer is delivered ({@link CallAnswer}). Each step may continue on another thread: on the platform executor
 * after a Delay, a released Hold or a deferred handler answer (H_JOIN, ibm,suspend-me).
 *
 * <p>A call never waits for a suspension: while the partition is suspended every running vCPU is inside H_JOIN
 * or ibm,suspend-me (the suspension is accepted only then), so admission refuses any call before it could reach
 * a suspended partition.
 *
 * <p>The reply is a {@link CallResult}: the handler's (or a fault's) {@link HcallResult} or {@link RtasResult},
 * or the admission's {@link CallRefusal}. The future fails only when the partition is gone or the caller's
 * connection went away; every other outcome is a PAPR or RTAS status.
 */
final class CallPipeline {
    private static final Logger LOG = LoggerFactory.getLogger(CallPipeline.class);

    private final PlatformServices services;
    private final DispatchTable table;
    private final FaultPlan faults;
    private final Holds holds;
    private final OperatorActions operator;
    private final TraceRing trace;
    private final AtomicLong calls = new AtomicLong();

    CallPipeline(PlatformServices services, DispatchTable table, FaultPlan faults, Holds holds, OperatorActions operator) {
        this.services = services;
        this.table = table;
        this.faults = faults;
        this.holds = holds;
        this.operator = operator;
        this.trace = services.trace();
    }

    /** Hcalls and RTAS calls dispatched since start (admitted: a refused call is not dispatched). */
    long callCount() {
        return calls.get();
    }

    /**
     * Dispatches one guest call (an hcall when {@code service} is null, else the RTAS service) and delivers its
     * answer to {@code answer} (see {@link CallAnswer}: on this thread
     * before returning, unless a fault action or a deferring handler holds the call back). A call that waits counts in
     * its session's {@link GuestSession#callsInFlight} until just before its answer.
     */
    void dispatch(GuestSession session, int vcpu, String task, long opcode, String service, long[] args, byte[] data,
                  boolean interruptsDisabled, CallAnswer answer) {
        Partition p = session.partition();
        String name = service != null ? service : Hcall.name(opcode);
        boolean rtasLocked = service != null && !RtasService.unlocked(service);
        CallRefusal refusal = p.vcpus.admit(vcpu, name, rtasLocked);
        if (refusal != null) {
            p.callsRefused.incrementAndGet();
            trace.append(TraceKind.REFUSED, p.name, vcpu, task, name, args, 0, 0, 0, refusal.message(), opcode);
            deliver(answer, refusal, null);
            return;
        }
        p.vcpus.noteFirstArg(vcpu, args);
        calls.incrementAndGet();
        p.callsMade.incrementAndGet();
        long beginNanos = trace.now();
        long beginSeq = trace.appendAt(beginNanos, TraceKind.CALL_BEGIN, p.name, vcpu, task, name, args, 0, 0, 0, "",
                opcode);
        InFlight call = new InFlight(session, vcpu, task, opcode, service, args, data, interruptsDisabled, name,
                rtasLocked, beginSeq, beginNanos, answer);
        CallContext ctx = call.ctx;
        // Only a plan with a rule that can match this opcode (or service) is consulted: a rule for another call
        // would neither count a match nor fire, so skipping it changes nothing but the cost.
        if (faults.mayMatch(opcode, service)) {
            call.info = new CallInfo(p.name, vcpu, ctx.task(), opcode, service, ctx.args(), session.id(), beginSeq);
            call.fired = faults.evaluate(call.info);
        }
        call.before(0);
    }

    private static void deliver(CallAnswer answer, CallResult result, Throwable error) {
        try {
            answer.answer(result, error);
        } catch (RuntimeException e) {
            LOG.error("a call's answer failed to deliver", e);
        }
    }

    /**
     * One call on its way through the pipeline; each step may continue on another thread. It is also the call's
     * {@link CallContext} (one object per call, not two): {@link #ctx} is this.
     */
    private final class InFlight extends CallContext {
        final CallContext ctx;
        /** The hcall's name or the RTAS service, as admitted (computed once per call). */
        final String name;
        final boolean rtasLocked;
        final long beginSeq;
        final long beginNanos;
        final CallAnswer answer;
        CallInfo info;
        List<FaultPlan.Fired> fired = List.of();
        /** Counted in the session's calls in flight: from when the call first left the dispatching thread. */
        boolean counted;

        InFlight(GuestSession session, int vcpu, String task, long opcode, String service, long[] args, byte[] data,
                 boolean interruptsDisabled, String name, boolean rtasLocked, long beginSeq, long beginNanos,
                 CallAnswer answer) {
            super(services, session.partition(), session, vcpu, task, opcode, service, args, data, interruptsDisabled);
            this.ctx = this;
            this.name = name;
            this.rtasLocked = rtasLocked;
            this.beginSeq = beginSeq;
            this.beginNanos = beginNanos;
            this.answer = answer;
        }

        /**
         * The call is about to wait (a Delay, a Hold, a deferred answer): from here until it is answered it counts
         * in {@link GuestSession#callsInFlight}. A call answered on the dispatching thread is never counted (two
         * atomic updates per call saved; nothing could observe it in flight for longer than the dispatch itself).
         * Called on the thread that hands the call on, before handing it on.
         */
        void leaving() {
            GuestSession s = ctx.session();
            if (!counted && s != null) {
                counted = true;
                s.callStarted();
            }
        }

        /** Applies BEFORE actions from index i, then runs the call. */
        void before(int i) {
            for (; i < fired.size(); i++) {
                FaultPlan.Fired f = fired.get(i);
                FaultAction a = f.action();
                if (a.when() != When.BEFORE) {
                    continue;
                }
                noteFault(f, null);
                int next = i + 1;
                if (a instanceof FaultAction.Delay d) {
                    leaving();
                    services.schedule(() -> before(next), d.ms());
                    return;
                } else if (a instanceof FaultAction.Hold h) {
                    leaving();
                    CompletableFuture<Void> released = holds.park(h.latch(), info, When.BEFORE, 0);
                    if (released == null) {
                        faults.holdRefused(f.ruleId());
                        continue;
                    }
                    released.whenCompleteAsync((v, e) -> {
                        if (e != null) {
                            finish(null, e);
                        } else {
                            before(next);
                        }
                    }, services::execute);
                    return;
                } else if (a instanceof FaultAction.Trigger t) {
                    trigger(f, t);
                } else if (a instanceof FaultAction.ReturnStatus rs) {
                    finish(injected(rs), null);
                    return;
                } else if (a instanceof FaultAction.Disconnect) {
                    GuestSession s = ctx.session();
                    s.sink().disconnect(GuestSink.DisconnectReason.FAULT_DISCONNECT,
                            "fault rule " + f.ruleId() + " disconnected this connection at " + ctx.label());
                    s.close();
                    finish(null, new PortException("disconnected by fault rule " + f.ruleId()));
                    return;
                }
            }
            invoke();
        }

        void invoke() {
            Partition p = ctx.partition();
            GuestSession caller = ctx.session();
            if (caller != null && !caller.isOpen()) {
                // The connection went away while the call waited (a Delay or a released Hold):
                // nobody can receive the answer, so the call is cancelled rather than run. Running it could
                // allocate a window no guest will ever know about.
                finish(null, new PortException("the guest connection closed before " + ctx.label() + " ran"));
                return;
            }
            CallResult result;
            p.lock.lock();
            try {
                result = p.deleted ? null : invokeLocked(p, ctx);
            } catch (RuntimeException e) {
                LOG.error("handler for {} failed on partition {}", ctx.label(), p.name, e);
                result = ctx.isRtas() ? RtasResult.of(RtasStatus.HARDWARE_ERROR) : HcallResult.of(HStatus.H_HARDWARE);
            } finally {
                p.lock.unlock();
            }
            ctx.runAfterUnlock();
            if (result == null) {
                finish(null, new ControlException(ControlError.UNKNOWN_PARTITION, "partition " + p.name + " is gone"));
            } else if (ctx.isDeferred()) {
                leaving();
                ctx.deferredFuture().whenCompleteAsync((r, e) -> {
                    if (e != null) {
                        finish(null, e);
                    } else {
                        after(r, 0);
                    }
                }, services::execute);
            } else {
                after(result, 0);
            }
        }

        /** Applies AFTER actions from index i to the handler's result, then replies. */
        void after(CallResult handlerResult, int i) {
            CallResult result = handlerResult;
            for (; i < fired.size(); i++) {
                FaultPlan.Fired f = fired.get(i);
                FaultAction a = f.action();
                if (a.when() != When.AFTER) {
                    continue;
                }
                noteFault(f, result);
                int next = i + 1;
                CallResult current = result;
                if (a instanceof FaultAction.Delay d) {
                    leaving();
                    services.schedule(() -> after(current, next), d.ms());
                    return;
                } else if (a instanceof FaultAction.Hold h) {
                    leaving();
                    CompletableFuture<Void> released = holds.park(h.latch(), info, When.AFTER, status(current));
                    if (released == null) {
                        faults.holdRefused(f.ruleId());
                        continue;
                    }
                    released.whenCompleteAsync((v, e) -> {
                        if (e != null) {
                            finish(null, e);
                        } else {
                            after(current, next);
                        }
                    }, services::execute);
                    return;
                } else if (a instanceof FaultAction.Trigger t) {
                    trigger(f, t);
                } else if (a instanceof FaultAction.ReturnStatus rs) {
                    result = injected(rs);
                }
            }
            finish(result, null);
        }

        CallResult injected(FaultAction.ReturnStatus rs) {
            return ctx.isRtas() ? new RtasResult((int) rs.status(), rs.rets(), null)
                    : new HcallResult(rs.status(), rs.rets(), null);
        }

        void trigger(FaultPlan.Fired f, FaultAction.Trigger t) {
            try {
                Triggers.run(operator, t.action(), ctx.partition().name);
            } catch (RuntimeException e) {
                trace.append(TraceKind.FAULT, ctx.partition().name, ctx.vcpu(), ctx.task(),
                        "rule " + f.ruleId() + " trigger failed", null, 0, beginSeq, 0, e.getMessage(), ctx.opcode());
                LOG.debug("trigger of rule {} failed: {}", f.ruleId(), e.toString());
            }
        }

        void noteFault(FaultPlan.Fired f, CallResult result) {
            FaultAction a = f.action();
            String what = a instanceof FaultAction.Hold h ? "Hold(" + h.latch() + ")"
                    : a instanceof FaultAction.Delay d ? "Delay(" + d.ms() + " ms)"
                    : a instanceof FaultAction.ReturnStatus rs ? "ReturnStatus(" + (ctx.isRtas()
                            ? RtasStatus.name(rs.status()) : HStatus.name(rs.status())) + ")"
                    : a instanceof FaultAction.Trigger t ? "Trigger(" + t.action().describe() + ")" : "Disconnect";
            trace.append(TraceKind.FAULT, ctx.partition().name, ctx.vcpu(), ctx.task(),
                    "rule " + f.ruleId() + " " + what + " " + a.when(), null, result == null ? 0 : status(result),
                    beginSeq, 0, ctx.label(), ctx.opcode());
        }

        void finish(CallResult result, Throwable error) {
            Partition p = ctx.partition();
            p.vcpus.release(ctx.vcpu(), rtasLocked);
            if (error != null) {
                trace.append(TraceKind.CALL_END, p.name, ctx.vcpu(), ctx.task(), name, null, 0, beginSeq,
                        beginNanos, error.toString(), ctx.opcode());
            } else {
                // The ring keeps the return registers as values ("rets [..]" is formatted when the trace is read).
                trace.appendCallEnd(p.name, ctx.vcpu(), ctx.task(), name, status(result), beginSeq,
                        beginNanos, result instanceof HcallResult h ? h.rets() : null, ctx.opcode());
            }
            GuestSession s = ctx.session();
            if (counted && s != null) {
                s.callAnswered();
            }
            deliver(answer, result, error);
        }
    }

    private static long status(CallResult result) {
        if (result instanceof HcallResult h) {
            return h.status();
        }
        return result instanceof RtasResult r ? r.status() : 0;
    }

    @GuardedBy("p.lock")
    private CallResult invokeLocked(Partition p, CallContext ctx) {
        if (!p.vcpus.exists(ctx.vcpu())) {
            return ctx.isRtas() ? RtasResult.of(RtasStatus.PARAMETER_ERROR) : HcallResult.of(HStatus.H_PARAMETER);
        }
        if (ctx.isRtas()) {
            RtasHandler h = table.rtas(ctx.service());
            return h == null ? RtasResult.of(RtasStatus.PARAMETER_ERROR) : h.handle(p, ctx);
        }
        HcallHandler h = table.hcall(ctx.opcode());
        return h == null ? HcallResult.of(HStatus.H_FUNCTION) : h.handle(p, ctx);
    }
}
