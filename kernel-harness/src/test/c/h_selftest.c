/*
 * The runtime's self-test, host side: a fake platform that checks every call against the vCPU contract
 * (the calling task owns the vCPU it names, one call per vCPU, one RTAS call at a time, H_JOIN only with
 * MSR[EE] = 0, no other task's call while a stop_machine callback runs), and the test runner.
 *
 * Output is TAP ("ok N - name", "not ok N - name: why"); the exit status is 1 when a test failed. The JUnit
 * test ShimSelfTest runs this program and turns each line into a test.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kh_internal.h"
#include "kt.h"

#define H_SUCCESS 0
#define H_CONTINUE 18
#define H_BAD_MODE (-5)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct kt_platform_counts counts;
static int in_call[KH_MAX_VCPUS];
static int rtas_in_flight;
static int stop_window;
static unsigned long hcall_delay_us;
static struct {
	char name[64];
	unsigned long n;
} tracepoints[32];

static char failures[4096];

void kt_fail(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&lock);
	size_t len = strlen(failures);
	snprintf(failures + len, sizeof(failures) - len, "%s%s", len ? "; " : "", msg);
	pthread_mutex_unlock(&lock);
}

void kt_counts(struct kt_platform_counts *out)
{
	pthread_mutex_lock(&lock);
	*out = counts;
	pthread_mutex_unlock(&lock);
}

void kt_reset_counts(void)
{
	pthread_mutex_lock(&lock);
	memset(&counts, 0, sizeof(counts));
	memset(tracepoints, 0, sizeof(tracepoints));
	pthread_mutex_unlock(&lock);
}

void kt_stop_window(int open)
{
	pthread_mutex_lock(&lock);
	stop_window = open;
	pthread_mutex_unlock(&lock);
}

int kt_stop_pending(void)
{
	return kh_stop_pending();
}

void kt_set_hcall_delay_us(unsigned long us)
{
	__atomic_store_n(&hcall_delay_us, us, __ATOMIC_SEQ_CST);
}

unsigned long kt_tracepoints(const char *name)
{
	unsigned long n = 0;
	pthread_mutex_lock(&lock);
	for (int i = 0; i < 32; i++)
		if (strcmp(tracepoints[i].name, name) == 0)
			n = tracepoints[i].n;
	pthread_mutex_unlock(&lock);
	return n;
}

static void pause_us(unsigned long us)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)us * 1000 };
	if (us)
		nanosleep(&ts, NULL);
}

/* Checks done on every call, with lock held: the caller owns the vCPU it names, and it is free. */
static void check_call_locked(int vcpu, const char *task)
{
	const char *owner = kh_vcpu_owner(vcpu);
	if (!owner || strcmp(owner, task) != 0)
		counts.wrong_vcpu++;
	if (in_call[vcpu]++)
		counts.two_calls_on_vcpu++;
	if (stop_window && strncmp(task, "migration/", 10) != 0)
		counts.calls_during_stop++;
}

static int fake_hcall(void *ctx, int vcpu, const char *task, int irqs_disabled, unsigned long opcode, int nargs,
		      const unsigned long *args, long *status, int nrets, unsigned long *rets, void *out, size_t out_cap,
		      struct kh_call_refusal *refusal)
{
	pthread_mutex_lock(&lock);
	check_call_locked(vcpu, task);
	counts.hcalls++;
	*status = H_SUCCESS;
	if (opcode == 0xE8)
		counts.prods++;
	if (opcode == 0x298) {
		counts.joins++;
		if (!irqs_disabled) {
			counts.bad_mode++;
			*status = H_BAD_MODE;
		} else {
			*status = H_CONTINUE;
		}
	}
	pthread_mutex_unlock(&lock);
	pause_us(__atomic_load_n(&hcall_delay_us, __ATOMIC_SEQ_CST));
	pthread_mutex_lock(&lock);
	in_call[vcpu]--;
	pthread_mutex_unlock(&lock);
	return 0;
}

static int fake_rtas(void *ctx, int vcpu, const char *task, const char *service, int nargs, const long *args,
		     int *status, int nrets, long *rets, void *work_area, size_t work_len, struct kh_call_refusal *refusal)
{
	pthread_mutex_lock(&lock);
	check_call_locked(vcpu, task);
	if (rtas_in_flight++)
		counts.rtas_overlap++;
	if ((unsigned long)rtas_in_flight > counts.max_rtas_in_flight)
		counts.max_rtas_in_flight = (unsigned long)rtas_in_flight;
	pthread_mutex_unlock(&lock);
	pause_us(500);
	pthread_mutex_lock(&lock);
	rtas_in_flight--;
	in_call[vcpu]--;
	pthread_mutex_unlock(&lock);
	*status = 0;
	return 0;
}

static void fake_tracepoint(void *ctx, int vcpu, const char *task, const char *name, const char *detail)
{
	pthread_mutex_lock(&lock);
	for (int i = 0; i < 32; i++) {
		if (tracepoints[i].name[0] == 0 || strcmp(tracepoints[i].name, name) == 0) {
			snprintf(tracepoints[i].name, sizeof(tracepoints[i].name), "%s", name);
			tracepoints[i].n++;
			break;
		}
	}
	pthread_mutex_unlock(&lock);
}

static void fake_lost(void *ctx, const char *why)
{
	fprintf(stderr, "kh-selftest: platform lost during %s\n", why);
	exit(1);
}

static const struct kh_platform_ops fake = {
	.hcall = fake_hcall, .rtas = fake_rtas, .tracepoint = fake_tracepoint, .lost = fake_lost,
};

/* The report sinks (unused here: the report is exercised against the daemon). */
void kh_report_credits(unsigned int a, unsigned int b, unsigned int c, unsigned int d, unsigned int e, unsigned int f) { }
void kh_report_window(unsigned long long a, unsigned int b, unsigned int c, unsigned long long d, unsigned int e,
		      const char *f) { }
void kh_report_dt_node(const char *a, unsigned int b, unsigned int c) { }
void kh_report_dt_prop(const char *a, const void *b, unsigned long c) { }
void kh_report_counters(unsigned long long a, unsigned long long b, unsigned long long c, unsigned long long d) { }

/* ---- the tree the tests use ---------------------------------------------------------------------------- */

static int build_tree(void *arg)
{
	unsigned char be_1000[4] = { 0, 0, 0x10, 0 }, tok[4] = { 0, 0, 0x20, 0x04 }, srv[4] = { 0, 0, 0, 0 };
	struct kh_fdt_prop cpu_props[] = {
		{ "device_type", (const unsigned char *)"cpu", 4 },
		{ "ibm,ppc-interrupt-server#s", srv, 4 },
		{ "ibm,my-drc-index", (const unsigned char[]) { 0x10, 0, 0, 0 }, 4 },
	};
	struct kh_fdt_prop rtas_props[] = { { "ibm,activate-firmware", tok, 4 } };
	(void)be_1000;
	kh_of_begin_tree();
	kh_of_add_node("/", 0, 0, NULL, 0);
	kh_of_add_node("/cpus", 2, 0, NULL, 0);
	kh_of_add_node("/cpus/PowerPC,POWER10@0", 0x1000, 0x10000000, cpu_props, 3);
	kh_of_add_node("/rtas", 5, 0, rtas_props, 1);
	return 0;
}

/* ---- the runner ------------------------------------------------------------------------------------------- */

static int run_test(void *arg)
{
	((void (*)(void))arg)();
	return 0;
}

struct test {
	const char *name;
	void (*fn)(void);
	unsigned int offline_mask;   /* vCPUs taken offline for the test */
};

static const struct test tests[] = {
	{ "for_each_online_cpu_ends_with_an_unsigned_index", kt_for_each_online_cpu, 1u << 2 },
	{ "prod_others_prods_each_other_online_cpu_once", kt_prod_storm, 1u << 2 },
	{ "one_call_at_a_time_per_vcpu", kt_one_call_per_vcpu, 0 },
	{ "stop_machine_runs_alone_with_interrupts_disabled", kt_stop_machine_exclusive, 0 },
	{ "might_sleep_yields_the_vcpu_to_a_pending_stop_machine", kt_might_sleep_yields_to_stop_machine, 0xc },
	{ "h_join_carries_msr_ee", kt_h_join_interrupts, 0 },
	{ "a_sleeping_task_gives_its_vcpu_back", kt_sleep_gives_back_vcpu, 0xe },
	{ "a_contended_mutex_is_traced_and_gives_the_vcpu_back", kt_mutex_contention, 0xe },
	{ "rtas_calls_are_serialized", kt_rtas_serialized, 0 },
	{ "sysfs_writes_reach_the_store_function", kt_sysfs_registry, 0 },
	{ "device_tree_lookups_and_reconfig_notifiers", kt_device_tree, 0 },
	{ "kstrto_parses_like_the_kernel", kt_kstrto, 0 },
	{ "printk_formats", kt_printk_formats, 0 },
};

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct kh_machine_config cfg = { .vcpus = 4, .clock_scale = 1.0 };
	kh_machine_init(&cfg);
	kh_set_platform(&fake, NULL);
	kh_task_adopt("kh-selftest");
	kh_task_join(kh_task_start("swapper", -1, build_tree, NULL));

	int n = (int)(sizeof(tests) / sizeof(tests[0])), failed = 0;
	printf("1..%d\n", n);
	for (int i = 0; i < n; i++) {
		const struct test *t = &tests[i];
		if (argc > 1 && !strstr(t->name, argv[1])) {
			printf("ok %d - %s # SKIP not selected\n", i + 1, t->name);
			continue;
		}
		failures[0] = 0;
		for (int c = 0; c < 4; c++)
			kh_cpu_set_online(c, !(t->offline_mask & (1u << c)));
		kh_task_join(kh_task_start("kt", -1, run_test, (void *)t->fn));
		for (int c = 0; c < 4; c++)
			kh_cpu_set_online(c, 1);
		if (failures[0]) {
			failed++;
			printf("not ok %d - %s: %s\n", i + 1, t->name, failures);
		} else {
			printf("ok %d - %s\n", i + 1, t->name);
		}
	}
	struct kh_machine_stats s;
	kh_machine_stats(&s);
	printf("# %llu hcalls, %llu RTAS calls, at most %llu call(s) in flight per vCPU, %llu stop_machine(s)\n",
	       (unsigned long long)s.hcalls, (unsigned long long)s.rtas_calls, (unsigned long long)s.max_calls_per_vcpu,
	       (unsigned long long)s.stop_machines);
	if (s.max_calls_per_vcpu > 1) {
		printf("not ok %d - machine: %llu calls in flight on one vCPU\n", n + 1, (unsigned long long)s.max_calls_per_vcpu);
		failed++;
	}
	return failed ? 1 : 0;
}
