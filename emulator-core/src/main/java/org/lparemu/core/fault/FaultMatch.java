package org.lparemu.core.fault;

/**
 * Which calls a rule matches, and how often it fires. Null / empty fields match anything.
 *
 * @param opcode      hcall opcode, or null (with rtasService null too: any call)
 * @param rtasService RTAS service name, or null
 * @param skipFirst   matching calls let through before the rule first fires
 * @param maxFires    fire at most this many times (0 = unlimited)
 * @param probability fire with this probability (0 or &ge; 1 = always), drawn from a generator seeded with
 *                    {@code seed}, so a run is reproducible from the seed
 */
public record FaultMatch(String partition, Long opcode, String rtasService, Integer vcpu, long skipFirst,
                         long maxFires, double probability, long seed, String task) {

    public FaultMatch {
        if (opcode != null && rtasService != null) {
            throw new IllegalArgumentException("a rule matches an hcall opcode or an RTAS service, not both");
        }
        if (skipFirst < 0 || maxFires < 0) {
            throw new IllegalArgumentException("skip_first and max_fires must not be negative");
        }
        if (Double.isNaN(probability) || probability < 0) {
            throw new IllegalArgumentException("probability must be in [0, 1], got " + probability);
        }
        partition = partition == null || partition.isEmpty() ? null : partition;
        rtasService = rtasService == null || rtasService.isEmpty() ? null : rtasService;
        task = task == null || task.isEmpty() ? null : task;
    }

    /** Every call of one hcall. */
    public static FaultMatch hcall(long opcode) {
        return new FaultMatch(null, opcode, null, null, 0, 0, 0, 0, null);
    }

    /** Every call of one RTAS service. */
    public static FaultMatch rtas(String service) {
        return new FaultMatch(null, null, service, null, 0, 0, 0, 0, null);
    }

    public FaultMatch partition(String p) {
        return new FaultMatch(p, opcode, rtasService, vcpu, skipFirst, maxFires, probability, seed, task);
    }

    public FaultMatch times(long max) {
        return new FaultMatch(partition, opcode, rtasService, vcpu, skipFirst, max, probability, seed, task);
    }

    public FaultMatch skip(long n) {
        return new FaultMatch(partition, opcode, rtasService, vcpu, n, maxFires, probability, seed, task);
    }

    public FaultMatch onTask(String t) {
        return new FaultMatch(partition, opcode, rtasService, vcpu, skipFirst, maxFires, probability, seed, t);
    }

    public FaultMatch onVcpu(int v) {
        return new FaultMatch(partition, opcode, rtasService, v, skipFirst, maxFires, probability, seed, task);
    }

    public FaultMatch withProbability(double p, long s) {
        return new FaultMatch(partition, opcode, rtasService, vcpu, skipFirst, maxFires, p, s, task);
    }

    /** Whether a call is in this rule's scope (before skip / max / probability are applied). */
    public boolean matches(CallInfo call) {
        if (partition != null && !partition.equals(call.partition())) {
            return false;
        }
        if (opcode != null && (call.isRtas() || opcode != call.opcode())) {
            return false;
        }
        if (rtasService != null && !rtasService.equals(call.rtasService())) {
            return false;
        }
        if (vcpu != null && vcpu != call.vcpu()) {
            return false;
        }
        return task == null || task.equals(call.task());
    }
}
