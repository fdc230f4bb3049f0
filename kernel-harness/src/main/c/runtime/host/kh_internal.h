/*
 * Host-side internals shared by the runtime's host files (not by the guest program or the kernel side).
 */
#ifndef KH_INTERNAL_H
#define KH_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include "kh_machine.h"

struct kh_task {
	pthread_t thread;
	char comm[KH_TASK_COMM_LEN];
	int pid;
	int vcpu;                 /* the vCPU it owns, or -1; guarded by sched_lock */
	int last_vcpu;
	int pin;                  /* the only vCPU it may take, or -1 */
	int stopper;              /* a stop_machine thread */
	int irqs_disabled;        /* MSR[EE] = 0; only the task itself touches it */
	char in_call[48];         /* the hcall or RTAS call it is inside, or ""; guarded by sched_lock */
	const char *last_sleep_site;
	void *kernel;             /* the kernel side's task_struct */
	kh_task_fn fn;
	void *arg;
	int result;
	int done;                 /* guarded by sched_lock */
	int detached;             /* guarded by sched_lock */
};

struct kh_machine_counters {
	uint64_t hcalls;
	uint64_t rtas_calls;
	uint64_t refused;
	uint64_t max_calls_per_vcpu;
	uint64_t max_rtas_in_flight;
	uint64_t stop_machines;
	uint64_t tasks_started;
};
extern struct kh_machine_counters kh_counters;

/* Enters / leaves a call on the calling task's vCPU; enforces one call per vCPU and one RTAS call per
 * partition (stop-self excepted). Returns the vCPU. */
int kh_call_enter(const char *what, int rtas, int rtas_exempt);
void kh_call_exit(int rtas, int rtas_exempt);

/* A tracepoint on behalf of task t (which may not be the calling thread's). */
void kh_trace_as(struct kh_task *t, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Who owns vCPU cpu now, and whether a stop_machine is under way (tests). */
const char *kh_vcpu_owner(int cpu);
int kh_stop_pending(void);

#endif
