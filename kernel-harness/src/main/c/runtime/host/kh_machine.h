/*
 * The host side's own interface: what the guest program (kguest_main.c) and the runtime's tests use to
 * set the machine up and to plug in a platform. The kernel side never sees this file.
 */
#ifndef KH_MACHINE_H
#define KH_MACHINE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "kh/host.h"

#define KH_MAX_VCPUS 64

/* ---- the machine ---------------------------------------------------------------------------------- */

struct kh_machine_config {
	int vcpus;              /* Welcome.vcpus */
	double clock_scale;     /* real seconds per guest second (1.0 = real time) */
	int shared_processor;
	int verbose;            /* print KERN_DEBUG messages too */
};
void kh_machine_init(const struct kh_machine_config *cfg);
double kh_clock_scale(void);
int kh_verbose(void);
int kh_shared_processor(void);

/* Takes a vCPU offline or online (DLPAR of threads is not modelled by the daemon; tests use this). */
void kh_cpu_set_online(int cpu, int online);

/* Makes the calling thread a guest task without a vCPU (the command loop, event workers before they
 * run kernel code), or returns the task it already is. */
struct kh_task *kh_task_adopt(const char *comm);
/* Takes / gives back a vCPU for the calling task (for threads made tasks by kh_task_adopt). */
void kh_vcpu_take(void);
void kh_vcpu_give(void);
/* Detached tasks free themselves when they end. */
void kh_task_detach(struct kh_task *t);

/* ---- observing the machine (tests and the exit summary) --------------------------------------------- */

struct kh_machine_stats {
	uint64_t hcalls;
	uint64_t rtas_calls;
	uint64_t refused;            /* CallRefused answers: the runtime broke the vCPU contract, or disagrees */
	uint64_t max_calls_per_vcpu; /* highest number of calls ever in flight on one vCPU (must be 1) */
	uint64_t max_rtas_in_flight; /* highest number of RTAS calls ever in flight at once (must be 1) */
	uint64_t stop_machines;
	uint64_t tasks_started;
};
void kh_machine_stats(struct kh_machine_stats *out);

/* ---- the platform: where hcalls, RTAS calls and tracepoints go ---------------------------------------- */

struct kh_call_refusal {
	int reason;                /* 1 VCPU_BUSY, 2 RTAS_BUSY, 3 VCPU_STOPPED */
	char text[320];
};
/* Result codes of the ops: 0 answered, KH_CALL_REFUSED (refusal filled), KH_CALL_LOST (no platform). */
#define KH_CALL_REFUSED (-1)
#define KH_CALL_LOST (-2)

struct kh_platform_ops {
	int (*hcall)(void *ctx, int vcpu, const char *task, int irqs_disabled, unsigned long opcode, int nargs,
		     const unsigned long *args, long *status, int nrets, unsigned long *rets, void *out, size_t out_cap,
		     struct kh_call_refusal *refusal);
	int (*rtas)(void *ctx, int vcpu, const char *task, const char *service, int nargs, const long *args,
		    int *status, int nrets, long *rets, void *work_area, size_t work_len, struct kh_call_refusal *refusal);
	void (*tracepoint)(void *ctx, int vcpu, const char *task, const char *name, const char *detail);
	/* The platform is gone (connection lost): the guest cannot go on. Called once; may exit. */
	void (*lost)(void *ctx, const char *why);
};
void kh_set_platform(const struct kh_platform_ops *ops, void *ctx);

/* ---- errors and counters for the report ---------------------------------------------------------- */

/* errno counts, by name ("EBUSY"), in a stable order; fn is called for each non-zero count. */
void kh_errno_counts(void (*fn)(void *ctx, const char *name, uint64_t count), void *ctx);

/* ---- text ------------------------------------------------------------------------------------------ */

/* Writes one line to the console (stderr), prefixed with the guest's time and task. */
void kh_console(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
