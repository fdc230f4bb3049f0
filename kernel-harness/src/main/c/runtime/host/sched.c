/*
 * The machine's processors: guest tasks, vCPUs, sleeping and stop_machine.
 *
 * The guest must behave like a partition's processors, because the daemon checks that it does (guest.proto,
 * CallRefused): a vCPU makes at most one hcall or RTAS call at a time, H_JOIN is made with interrupts
 * disabled, and while stop_machine runs nothing else runs. So:
 *
 *   - A guest task is a pthread. It runs kernel code only while it owns a vCPU (vcpu[i].owner). It takes one
 *     when it starts or wakes, keeps it through hcalls and RTAS calls (a CPU in an hcall runs nothing else),
 *     and gives it back when it sleeps (msleep, a contended mutex, a wait) or ends. smp_processor_id() is the
 *     vCPU it owns, which is also the number the daemon knows it by.
 *   - Kernel code never runs on a thread that owns no vCPU (kh_cpu_current aborts), and a task takes only
 *     an online vCPU.
 *   - stop_machine sets stop_pending: from then on no task takes a vCPU except the stop_machine threads,
 *     migration/N, each of which waits for its own vCPU N. A task that owns a vCPU keeps it until it next
 *     reaches a voluntary preemption point (kh_might_resched) or sleeps or ends, as a PREEMPT_VOLUNTARY
 *     kernel does; when that task is inside an hcall (say one a fault rule holds) the stopper waits, and says
 *     so with the tracepoint stop_machine_wait. Once every stopper
 *     owns its vCPU they run fn together with interrupts disabled; their vCPUs stay reserved until the
 *     caller has collected the results and cleared stop_pending.
 *
 * Lock order: sched_lock is a leaf (nothing else is taken under it; tracepoints are sent after releasing it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kh_machine.h"
#include "kh_internal.h"

struct vcpu {
	int online;
	struct kh_task *owner;       /* guarded by sched_lock */
};

static pthread_mutex_t sched_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sched_cv = PTHREAD_COND_INITIALIZER;
static struct vcpu vcpus[KH_MAX_VCPUS];
static int nvcpus;
static int stop_pending;         /* a stop_machine owns the machine; guarded by sched_lock */
static double clock_scale = 1.0;
static int verbose;
static int shared_processor;
static int next_pid = 1000;

static __thread struct kh_task *self;

struct kh_machine_counters kh_counters;

void kh_machine_init(const struct kh_machine_config *cfg)
{
	nvcpus = cfg->vcpus < 1 ? 1 : cfg->vcpus > KH_MAX_VCPUS ? KH_MAX_VCPUS : cfg->vcpus;
	for (int i = 0; i < KH_MAX_VCPUS; i++) {
		vcpus[i].online = i < nvcpus;
		vcpus[i].owner = NULL;
	}
	clock_scale = cfg->clock_scale > 0 ? cfg->clock_scale : 1.0;
	verbose = cfg->verbose;
	shared_processor = cfg->shared_processor;
}

double kh_clock_scale(void) { return clock_scale; }
int kh_verbose(void) { return verbose; }
int kh_shared_processor(void) { return shared_processor; }

/* ---- tasks ------------------------------------------------------------------------------------------ */

static struct kh_task *task_new(const char *comm, int pin, int stopper)
{
	struct kh_task *t = calloc(1, sizeof(*t));
	if (!t)
		kh_panic("out of memory for task %s", comm);
	snprintf(t->comm, sizeof(t->comm), "%s", comm);
	t->vcpu = -1;
	t->last_vcpu = -1;
	t->pin = pin;
	t->stopper = stopper;
	pthread_mutex_lock(&sched_lock);
	t->pid = next_pid++;
	pthread_mutex_unlock(&sched_lock);
	__atomic_add_fetch(&kh_counters.tasks_started, 1, __ATOMIC_RELAXED);
	return t;
}

struct kh_task *kh_task_self(void) { return self; }
const char *kh_task_comm(const struct kh_task *t) { return t ? t->comm : "?"; }
int kh_task_pid(const struct kh_task *t) { return t ? t->pid : 0; }
void **kh_task_kernel_slot(struct kh_task *t) { return &t->kernel; }

struct kh_task *kh_task_adopt(const char *comm)
{
	if (!self)
		self = task_new(comm, -1, 0);
	return self;
}

/* ---- vCPUs ------------------------------------------------------------------------------------------ */

static int free_vcpu_locked(struct kh_task *t)
{
	if (t->pin >= 0)
		return t->pin < nvcpus && vcpus[t->pin].online && !vcpus[t->pin].owner ? t->pin : -1;
	if (t->last_vcpu >= 0 && vcpus[t->last_vcpu].online && !vcpus[t->last_vcpu].owner)
		return t->last_vcpu;
	for (int i = 0; i < nvcpus; i++)
		if (vcpus[i].online && !vcpus[i].owner)
			return i;
	return -1;
}

/* Takes a vCPU for t, waiting as long as it must. */
static void vcpu_acquire(struct kh_task *t)
{
	int reported = 0;
	pthread_mutex_lock(&sched_lock);
	if (t->vcpu >= 0)
		kh_panic("task %s takes a vCPU while it owns vCPU %d", t->comm, t->vcpu);
	for (;;) {
		int v = (stop_pending && !t->stopper) ? -1 : free_vcpu_locked(t);
		if (v >= 0) {
			vcpus[v].owner = t;
			t->vcpu = v;
			t->last_vcpu = v;
			break;
		}
		if (t->stopper && !reported && t->pin >= 0 && vcpus[t->pin].owner) {
			/* Say once why stop_machine cannot go on: which task keeps this vCPU, and in which call. */
			struct kh_task *o = vcpus[t->pin].owner;
			char detail[160];
			snprintf(detail, sizeof(detail), "cpu %d held by task %s%s%s", t->pin, o->comm,
				 o->in_call[0] ? " in " : "", o->in_call);
			reported = 1;
			pthread_mutex_unlock(&sched_lock);
			kh_trace_as(t, "stop_machine_wait", "%s", detail);
			pthread_mutex_lock(&sched_lock);
			continue;
		}
		pthread_cond_wait(&sched_cv, &sched_lock);
	}
	pthread_mutex_unlock(&sched_lock);
}

static void vcpu_release(struct kh_task *t)
{
	pthread_mutex_lock(&sched_lock);
	if (t->vcpu < 0)
		kh_panic("task %s gives back a vCPU it does not own", t->comm);
	if (t->in_call[0])
		kh_panic("task %s gives back vCPU %d while inside %s", t->comm, t->vcpu, t->in_call);
	vcpus[t->vcpu].owner = NULL;
	t->vcpu = -1;
	pthread_cond_broadcast(&sched_cv);
	pthread_mutex_unlock(&sched_lock);
}

void kh_vcpu_take(void)
{
	if (!self)
		kh_panic("kh_vcpu_take on a thread that is not a guest task");
	vcpu_acquire(self);
}

void kh_vcpu_give(void)
{
	if (!self)
		kh_panic("kh_vcpu_give on a thread that is not a guest task");
	vcpu_release(self);
}

int kh_cpu_current(void)
{
	if (!self || self->vcpu < 0)
		kh_panic("kernel code ran on %s, which owns no vCPU", self ? self->comm : "a thread that is not a guest task");
	return self->vcpu;
}

int kh_cpu_count(void) { return nvcpus; }

int kh_cpu_online(int cpu)
{
	return cpu >= 0 && cpu < nvcpus && __atomic_load_n(&vcpus[cpu].online, __ATOMIC_ACQUIRE);
}

int kh_cpu_next_online(int prev)
{
	for (int i = prev < 0 ? 0 : prev + 1; i < nvcpus; i++)
		if (kh_cpu_online(i))
			return i;
	return nvcpus;
}

int kh_cpu_online_count(void)
{
	int n = 0;
	for (int i = 0; i < nvcpus; i++)
		n += kh_cpu_online(i);
	return n;
}

void kh_cpu_set_online(int cpu, int online)
{
	if (cpu < 0 || cpu >= nvcpus)
		return;
	pthread_mutex_lock(&sched_lock);
	__atomic_store_n(&vcpus[cpu].online, online ? 1 : 0, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&sched_cv);
	pthread_mutex_unlock(&sched_lock);
}

/* Who owns vCPU cpu now (for tests): the task's comm, or NULL. */
const char *kh_vcpu_owner(int cpu)
{
	pthread_mutex_lock(&sched_lock);
	const char *c = cpu >= 0 && cpu < nvcpus && vcpus[cpu].owner ? vcpus[cpu].owner->comm : NULL;
	pthread_mutex_unlock(&sched_lock);
	return c;
}

/* ---- starting and joining tasks --------------------------------------------------------------------- */

static void *task_main(void *arg)
{
	struct kh_task *t = arg;
	self = t;
	pthread_setname_np(pthread_self(), t->comm);
	vcpu_acquire(t);
	t->result = t->fn(t->arg);
	if (t->irqs_disabled && !t->stopper)
		kh_panic("task %s ended with interrupts disabled", t->comm);
	if (t->kernel)
		kh_kernel_task_exit(t->kernel);
	vcpu_release(t);
	pthread_mutex_lock(&sched_lock);
	t->done = 1;
	int detached = t->detached;
	pthread_cond_broadcast(&sched_cv);
	pthread_mutex_unlock(&sched_lock);
	if (detached)
		free(t);
	return NULL;
}

struct kh_task *kh_task_start(const char *comm, int pin, kh_task_fn fn, void *arg)
{
	struct kh_task *t = task_new(comm, pin, 0);
	t->fn = fn;
	t->arg = arg;
	if (pthread_create(&t->thread, NULL, task_main, t) != 0)
		kh_panic("cannot start task %s", comm);
	return t;
}

void kh_task_detach(struct kh_task *t)
{
	pthread_mutex_lock(&sched_lock);
	pthread_detach(t->thread);
	int done = t->done;
	t->detached = 1;
	pthread_mutex_unlock(&sched_lock);
	if (done)
		free(t);
}

int kh_task_join(struct kh_task *t)
{
	int had = self && self->vcpu >= 0;
	if (had)
		vcpu_release(self);
	pthread_join(t->thread, NULL);
	int r = t->result;
	free(t);
	if (had)
		vcpu_acquire(self);
	return r;
}

/* ---- sleeping --------------------------------------------------------------------------------------- */

static void nap(double seconds)
{
	if (seconds <= 0)
		return;
	struct timespec ts = { .tv_sec = (time_t)seconds, .tv_nsec = (long)((seconds - (time_t)seconds) * 1e9) };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void kh_yield(void)
{
	struct kh_task *t = self;
	if (!t || t->vcpu < 0)
		kh_panic("cond_resched/schedule outside a task");
	vcpu_release(t);
	sched_yield();
	vcpu_acquire(t);
}

/*
 * A voluntary preemption point: where the kernel might sleep (might_sleep(), a sleeping lock, a completion),
 * a CONFIG_PREEMPT_VOLUNTARY kernel reschedules if a higher-priority task wants the CPU. The one such task in this machine is stop_machine's stopper, which outranks every other: once
 * a stop_machine is pending, a task reaching this point gives its vCPU to the stopper waiting for it and takes
 * one again when the machine is released. So after an hcall a stopper waited for, the caller runs only up to
 * its next such point (in vas_allocate_window, the mutex_lock after H_MODIFY_VAS_WINDOW), not to its next
 * sleep. Said with the tracepoint stop_machine_preempt.
 */
void kh_might_resched(const char *site)
{
	struct kh_task *t = self;
	if (!t || t->vcpu < 0 || t->stopper || t->irqs_disabled)
		return;
	pthread_mutex_lock(&sched_lock);
	int preempt = stop_pending;
	int cpu = t->vcpu;
	pthread_mutex_unlock(&sched_lock);
	if (!preempt)
		return;
	kh_tracepoint("stop_machine_preempt", "task %s gives cpu %d to migration/%d in %s", t->comm, cpu, cpu,
		      site ? site : "?");
	vcpu_release(t);
	vcpu_acquire(t);
}

/*
 * The sleeps the Java port marks with a tracepoint, by the kernel function that sleeps: a scenario can then
 * wait for "SUSPEND waits for opens in progress" whichever guest runs. Reported on the first sleep of a
 * series (the same site again, with no call in between, is the same wait).
 */
static const struct {
	const char *site;
	const char *tracepoint;
} sleep_tracepoints[] = {
	{ "vas_migration_handler", "vas_migration_wait_opens" },
};

static void sleep_at(double seconds, const char *site)
{
	struct kh_task *t = self;
	if (!t || t->vcpu < 0)
		kh_panic("a sleep (%s) outside a task", site ? site : "?");
	if (site && t->last_sleep_site != site) {
		for (size_t i = 0; i < sizeof(sleep_tracepoints) / sizeof(sleep_tracepoints[0]); i++)
			if (strcmp(site, sleep_tracepoints[i].site) == 0)
				kh_tracepoint(sleep_tracepoints[i].tracepoint, "%s sleeps %.0f ms", site, seconds * 1000);
	}
	t->last_sleep_site = site;
	vcpu_release(t);
	nap(seconds * clock_scale);
	vcpu_acquire(t);
}

void kh_msleep(unsigned long ms, const char *site)
{
	sleep_at(ms / 1000.0, site);
}

void kh_usleep(unsigned long min_us, unsigned long max_us, const char *site)
{
	(void)max_us;
	sleep_at(min_us / 1e6, site);
}

/* ---- MSR[EE] ---------------------------------------------------------------------------------------- */

int kh_irqs_disabled(void)
{
	return self ? self->irqs_disabled : 0;
}

void kh_irqs_set_disabled(int disabled)
{
	if (!self)
		kh_panic("local_irq_* outside a task");
	self->irqs_disabled = disabled ? 1 : 0;
}

/* ---- stop_machine ----------------------------------------------------------------------------------- */

struct stop_run {
	int (*fn)(void *);
	void *data;
	int n;                  /* stoppers */
	int arrived;            /* stoppers owning their vCPU; guarded by lock */
	pthread_mutex_t lock;
	pthread_cond_t cv;
};

struct stopper_arg {
	struct stop_run *run;
	int cpu;
};

static int stopper_main(void *arg)
{
	struct stopper_arg *a = arg;
	struct stop_run *r = a->run;
	/* Every stopper owns its vCPU before any runs fn (multi_cpu_stop's rendezvous). */
	pthread_mutex_lock(&r->lock);
	r->arrived++;
	pthread_cond_broadcast(&r->cv);
	while (r->arrived < r->n)
		pthread_cond_wait(&r->cv, &r->lock);
	pthread_mutex_unlock(&r->lock);
	kh_irqs_set_disabled(1);
	int ret = r->fn(r->data);
	kh_irqs_set_disabled(0);
	return ret;
}

int kh_stop_machine(int (*fn)(void *), void *data)
{
	struct kh_task *caller = self;
	if (!caller || caller->vcpu < 0)
		kh_panic("stop_machine outside a task");
	vcpu_release(caller);

	pthread_mutex_lock(&sched_lock);
	while (stop_pending)
		pthread_cond_wait(&sched_cv, &sched_lock);
	stop_pending = 1;
	int cpus[KH_MAX_VCPUS], n = 0;
	for (int i = 0; i < nvcpus; i++)
		if (vcpus[i].online)
			cpus[n++] = i;
	pthread_mutex_unlock(&sched_lock);
	__atomic_add_fetch(&kh_counters.stop_machines, 1, __ATOMIC_RELAXED);

	struct stop_run run = { .fn = fn, .data = data, .n = n };
	pthread_mutex_init(&run.lock, NULL);
	pthread_cond_init(&run.cv, NULL);
	struct stopper_arg args[KH_MAX_VCPUS];
	struct kh_task *tasks[KH_MAX_VCPUS];
	for (int i = 0; i < n; i++) {
		char comm[KH_TASK_COMM_LEN];
		snprintf(comm, sizeof(comm), "migration/%d", cpus[i]);
		args[i] = (struct stopper_arg) { .run = &run, .cpu = cpus[i] };
		struct kh_task *t = task_new(comm, cpus[i], 1);
		t->fn = stopper_main;
		t->arg = &args[i];
		tasks[i] = t;
		if (pthread_create(&t->thread, NULL, task_main, t) != 0)
			kh_panic("cannot start %s", comm);
	}
	int ret = 0;
	for (int i = 0; i < n; i++) {
		pthread_join(tasks[i]->thread, NULL);
		if (tasks[i]->result)
			ret = tasks[i]->result;
		free(tasks[i]);
	}
	pthread_mutex_destroy(&run.lock);
	pthread_cond_destroy(&run.cv);

	pthread_mutex_lock(&sched_lock);
	stop_pending = 0;
	pthread_cond_broadcast(&sched_cv);
	pthread_mutex_unlock(&sched_lock);
	vcpu_acquire(caller);
	return ret;
}

/* Is a stop_machine under way (for tests)? */
int kh_stop_pending(void)
{
	pthread_mutex_lock(&sched_lock);
	int p = stop_pending;
	pthread_mutex_unlock(&sched_lock);
	return p;
}

/* ---- calls ------------------------------------------------------------------------------------------ */

static int vcpu_calls[KH_MAX_VCPUS];   /* calls in flight per vCPU; guarded by sched_lock */
static int rtas_in_flight;             /* guarded by sched_lock */

static void raise_max(uint64_t *max, uint64_t v)
{
	if (v > *max)
		*max = v;
}

int kh_call_enter(const char *what, int rtas, int rtas_exempt)
{
	struct kh_task *t = self;
	if (!t || t->vcpu < 0)
		kh_panic("%s made by %s, which owns no vCPU", what, t ? t->comm : "a thread that is not a guest task");
	pthread_mutex_lock(&sched_lock);
	int v = t->vcpu;
	if (vcpu_calls[v] != 0)
		kh_panic("%s on vCPU %d while it is already inside a call (task %s)", what, v, t->comm);
	vcpu_calls[v]++;
	raise_max(&kh_counters.max_calls_per_vcpu, (uint64_t)vcpu_calls[v]);
	if (rtas && !rtas_exempt) {
		if (rtas_in_flight != 0)
			kh_panic("%s while another RTAS call is in flight: rtas_lock does not serialize", what);
		rtas_in_flight++;
		raise_max(&kh_counters.max_rtas_in_flight, (uint64_t)rtas_in_flight);
	}
	snprintf(t->in_call, sizeof(t->in_call), "%s", what);
	t->last_sleep_site = NULL;
	pthread_mutex_unlock(&sched_lock);
	return v;
}

void kh_call_exit(int rtas, int rtas_exempt)
{
	struct kh_task *t = self;
	pthread_mutex_lock(&sched_lock);
	vcpu_calls[t->vcpu]--;
	if (rtas && !rtas_exempt)
		rtas_in_flight--;
	t->in_call[0] = 0;
	pthread_mutex_unlock(&sched_lock);
}

void kh_machine_stats(struct kh_machine_stats *out)
{
	pthread_mutex_lock(&sched_lock);
	out->hcalls = __atomic_load_n(&kh_counters.hcalls, __ATOMIC_RELAXED);
	out->rtas_calls = __atomic_load_n(&kh_counters.rtas_calls, __ATOMIC_RELAXED);
	out->refused = __atomic_load_n(&kh_counters.refused, __ATOMIC_RELAXED);
	out->max_calls_per_vcpu = kh_counters.max_calls_per_vcpu;
	out->max_rtas_in_flight = kh_counters.max_rtas_in_flight;
	out->stop_machines = __atomic_load_n(&kh_counters.stop_machines, __ATOMIC_RELAXED);
	out->tasks_started = __atomic_load_n(&kh_counters.tasks_started, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&sched_lock);
}

int kh_partition_shared(void) { return shared_processor; }
