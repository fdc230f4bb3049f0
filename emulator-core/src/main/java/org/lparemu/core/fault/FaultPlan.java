package org.lparemu.core.fault;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * The ordered list of fault rules ({@code when(match).then(action)}) that the dispatcher consults for every
 * call, with the counters that show how often each matched and fired.
 *
 * <p>Evaluation: rules are visited in the order they were added. A rule whose match covers the call counts
 * a match; it fires unless it is still skipping ({@code skip_first}), has fired {@code max_fires} times, or
 * its seeded generator says no ({@code probability}). Every rule that fires contributes its action; the first
 * terminal action (ReturnStatus, Disconnect) ends the evaluation.
 *
 * <p>Thread-safety: the rule list, the ids and the fired-by-action counts are {@code @GuardedBy("this")}; each
 * entry's counters are changed and read only inside this object's synchronized methods (Error Prone cannot name the
 * outer monitor from the nested class, so that half is stated here); the list is also published
 * as an immutable snapshot so the no-rule case costs one volatile read per call.
 */
public final class FaultPlan {
    /** One rule with its counters. */
    public static final class Entry {
        private final long id;
        private final FaultRule rule;
        private final SplittableRandom random;
        private long matched;
        private long fired;
        private long holdsRefused;

        Entry(long id, FaultRule rule) {
            this.id = id;
            this.rule = rule;
            this.random = new SplittableRandom(rule.match().seed());
        }

        public long id() {
            return id;
        }

        public FaultRule rule() {
            return rule;
        }
    }

    /** A rule as ListFaults shows it. */
    public record RuleStatus(long id, FaultRule rule, long matched, long fired, long holdsRefused) {
    }

    /** An action that fired for a call, with the rule it came from. */
    public record Fired(long ruleId, FaultAction action) {
    }

    /** The action kinds, in the order {@link #firedByAction()} counts them. */
    private static final List<String> ACTION_KINDS = List.of("ReturnStatus", "Delay", "Hold", "Disconnect", "Trigger");

    private final int maxRules;
    @GuardedBy("this")
    private final List<Entry> rules = new ArrayList<>();
    /** Fires since start by action kind (see {@link #ACTION_KINDS}); never reset, so removing a rule keeps its fires. */
    @GuardedBy("this")
    private final long[] firedByAction = new long[ACTION_KINDS.size()];
    private volatile boolean empty = true;
    /** Which calls some rule can match: rebuilt under the monitor on every change, read without it. */
    private volatile Scope scope = Scope.NONE;
    @GuardedBy("this")
    private long nextId = 1;

    public FaultPlan(int maxRules) {
        this.maxRules = maxRules;
    }

    /** Adds a rule at the end; returns its id. */
    public synchronized long add(FaultRule rule) {
        if (rules.size() >= maxRules) {
            throw new IllegalStateException("fault rule limit " + maxRules + " reached");
        }
        long id = nextId++;
        rules.add(new Entry(id, rule));
        empty = false;
        scope = Scope.of(rules);
        return id;
    }

    /** Removes a rule; false if there was none with that id. */
    public synchronized boolean remove(long id) {
        boolean removed = rules.removeIf(e -> e.id == id);
        empty = rules.isEmpty();
        scope = Scope.of(rules);
        return removed;
    }

    /** Removes every rule; returns how many there were. */
    public synchronized int clear() {
        int n = rules.size();
        rules.clear();
        empty = true;
        scope = Scope.NONE;
        return n;
    }

    public synchronized List<RuleStatus> list() {
        List<RuleStatus> out = new ArrayList<>();
        for (Entry e : rules) {
            out.add(new RuleStatus(e.id, e.rule, e.matched, e.fired, e.holdsRefused));
        }
        return out;
    }

    /** True when there is no rule: the dispatcher's fast path (one volatile read). */
    public boolean isEmpty() {
        return empty;
    }

    /**
     * False when no rule can match a call of {@code opcode} (an hcall, {@code service} null) or of RTAS
     * {@code service}: then {@link #evaluate} would count nothing and fire nothing, and the dispatcher skips it
     * (and the {@link CallInfo} it needs). One volatile read and, with rules, a search of their opcodes.
     */
    public boolean mayMatch(long opcode, String service) {
        Scope s = scope;
        if (s.any) {
            return true;
        }
        if (service != null) {
            for (String r : s.services) {
                if (r.equals(service)) {
                    return true;
                }
            }
            return false;
        }
        return Arrays.binarySearch(s.opcodes, opcode) >= 0;
    }

    public synchronized int size() {
        return rules.size();
    }

    /** The actions that fire for this call, in rule order (empty in the common no-rule case). */
    public List<Fired> evaluate(CallInfo call) {
        if (empty) {
            return List.of();
        }
        List<Fired> out = null;
        synchronized (this) {
            for (Entry e : rules) {
                FaultMatch m = e.rule.match();
                if (!m.matches(call)) {
                    continue;
                }
                e.matched++;
                if (e.matched <= m.skipFirst()) {
                    continue;
                }
                if (m.maxFires() > 0 && e.fired >= m.maxFires()) {
                    continue;
                }
                if (m.probability() > 0 && m.probability() < 1 && e.random.nextDouble() >= m.probability()) {
                    continue;
                }
                e.fired++;
                firedByAction[actionIndex(e.rule.action())]++;
                if (out == null) {
                    out = new ArrayList<>(2);
                }
                out.add(new Fired(e.id, e.rule.action()));
                if (e.rule.action().terminal()) {
                    break;
                }
            }
        }
        return out == null ? List.of() : out;
    }

    /**
     * How many times rules fired since start, by action kind ("ReturnStatus", "Delay", "Hold", "Disconnect",
     * "Trigger"), including rules removed or cleared since: the count only grows.
     */
    public synchronized Map<String, Long> firedByAction() {
        Map<String, Long> out = new LinkedHashMap<>();
        for (int i = 0; i < ACTION_KINDS.size(); i++) {
            out.put(ACTION_KINDS.get(i), firedByAction[i]);
        }
        return out;
    }

    private static int actionIndex(FaultAction a) {
        if (a instanceof FaultAction.ReturnStatus) {
            return 0;
        } else if (a instanceof FaultAction.Delay) {
            return 1;
        } else if (a instanceof FaultAction.Hold) {
            return 2;
        } else if (a instanceof FaultAction.Disconnect) {
            return 3;
        }
        return 4;
    }

    /** The calls the current rules can match: any call, or these opcodes and these RTAS services. */
    private record Scope(boolean any, long[] opcodes, String[] services) {
        static final Scope NONE = new Scope(false, new long[0], new String[0]);

        static Scope of(List<Entry> rules) {
            boolean any = false;
            TreeSet<Long> opcodes = new TreeSet<>();
            Set<String> services = new LinkedHashSet<>();
            for (Entry e : rules) {
                FaultMatch m = e.rule.match();
                if (m.opcode() != null) {
                    opcodes.add(m.opcode());
                } else if (m.rtasService() != null) {
                    services.add(m.rtasService());
                } else {
                    any = true;
                }
            }
            return new Scope(any, opcodes.stream().mapToLong(Long::longValue).toArray(), services.toArray(new String[0]));
        }
    }

    /** Counts a Hold of rule {@code id} that could not park because the parked-holds limit was reached. */
    public synchronized void holdRefused(long id) {
        for (Entry e : rules) {
            if (e.id == id) {
                e.holdsRefused++;
            }
        }
    }
}
