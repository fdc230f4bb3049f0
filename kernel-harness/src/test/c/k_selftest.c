/*
 * The runtime's self-test, kernel side: each test uses the shim's kernel interfaces the way the pseries
 * files do and checks the machine underneath (the fake platform in h_selftest.c watches the calls).
 */
#include <linux/kernel.h>
#include <linux/kobject.h>
#include <linux/of.h>
#include <asm/hvcall.h>
#include <asm/rtas.h>

#include "k_internal.h"
#include "kt.h"

/* ---- CPU iteration ---------------------------------------------------------------------------------------- */

/* Called with vCPU 2 of 4 offline. An unsigned index must end the loop (a prototype's did not). */
void kt_for_each_online_cpu(void)
{
	int seen[NR_CPUS] = { 0 };
	unsigned int ucpu;
	int n = 0;
	for_each_online_cpu(ucpu) {
		if (++n > NR_CPUS) {
			kt_fail("for_each_online_cpu with an unsigned index does not end");
			return;
		}
		seen[ucpu]++;
	}
	int icpu;
	for_each_online_cpu(icpu) {
		if (++n > 2 * NR_CPUS) {
			kt_fail("for_each_online_cpu with a signed index does not end");
			return;
		}
		seen[icpu]++;
	}
	for (int c = 0; c < 4; c++) {
		int want = c == 2 ? 0 : 2;
		if (seen[c] != want)
			kt_fail("cpu %d visited %d times, want %d", c, seen[c], want);
	}
	if (num_online_cpus() != 3)
		kt_fail("num_online_cpus() = %u, want 3", num_online_cpus());
}

/* ---- H_PROD from a stop_machine callback, as mobility.c's prod_others does ------------------------------- */

static int prod_the_others(void *unused)
{
	if (smp_processor_id() != 0)
		return 0;
	unsigned int cpu;
	int n = 0;
	for_each_online_cpu(cpu) {
		if (++n > NR_CPUS) {
			kt_fail("prod loop does not end: an H_PROD storm");
			break;
		}
		if (cpu != smp_processor_id())
			plpar_hcall_norets(H_PROD, get_hard_smp_processor_id(cpu));
	}
	return 0;
}

/* Called with vCPU 2 of 4 offline: exactly two prods (vCPUs 1 and 3). */
void kt_prod_storm(void)
{
	kt_reset_counts();
	stop_machine(prod_the_others, NULL, cpu_online_mask);
	struct kt_platform_counts c;
	kt_counts(&c);
	if (c.prods != 2)
		kt_fail("%lu H_PROD calls, want 2 (one per other online vCPU)", c.prods);
}

/* ---- one call per vCPU ----------------------------------------------------------------------------------- */

static int busy_caller(void *arg)
{
	for (int i = 0; i < 40; i++)
		plpar_hcall_norets(H_CEDE);
	return 0;
}

void kt_one_call_per_vcpu(void)
{
	kt_reset_counts();
	kt_set_hcall_delay_us(200);
	struct kh_task *tasks[8];
	for (int i = 0; i < 8; i++) {
		char comm[16];
		snprintf(comm, sizeof(comm), "caller%d", i);
		tasks[i] = kh_task_start(comm, -1, busy_caller, NULL);
	}
	for (int i = 0; i < 8; i++)
		kh_task_join(tasks[i]);
	kt_set_hcall_delay_us(0);
	struct kt_platform_counts c;
	kt_counts(&c);
	if (c.hcalls != 320)
		kt_fail("%lu hcalls seen, want 320", c.hcalls);
	if (c.two_calls_on_vcpu)
		kt_fail("%lu calls made on a vCPU already inside a call", c.two_calls_on_vcpu);
	if (c.wrong_vcpu)
		kt_fail("%lu calls named a vCPU their task did not own", c.wrong_vcpu);
}

/* ---- stop_machine --------------------------------------------------------------------------------------- */

static atomic_t entered, left, background_stop;
static int stop_cpus_seen[NR_CPUS];

/* Kernel code that loops makes a preemption point now and then (the kernel is preemptible only voluntarily
 * here, as with PREEMPT_VOLUNTARY: a stop_machine waits for a running task's next sleep, cond_resched or
 * might_sleep point). */
static int background_caller(void *arg)
{
	while (!atomic_read(&background_stop)) {
		plpar_hcall_norets(H_CEDE);
		cond_resched();
	}
	return 0;
}

static int exclusive_fn(void *arg)
{
	int cpu = smp_processor_id();
	if (!irqs_disabled())
		kt_fail("stop_machine callback on cpu %d runs with interrupts enabled", cpu);
	char want[16];
	snprintf(want, sizeof(want), "migration/%d", cpu);
	if (strcmp(current->comm, want) != 0)
		kt_fail("callback on cpu %d runs in task %s", cpu, current->comm);
	stop_cpus_seen[cpu]++;
	if (atomic_inc_return(&entered) == 1)
		kt_stop_window(1);
	while (atomic_read(&entered) < (int)num_online_cpus())
		barrier();
	plpar_hcall_norets(H_CEDE);
	if (atomic_inc_return(&left) == (int)num_online_cpus())
		kt_stop_window(0);
	return cpu == 1 ? -EBUSY : 0;
}

void kt_stop_machine_exclusive(void)
{
	kt_reset_counts();
	kt_set_hcall_delay_us(100);
	atomic_set(&entered, 0);
	atomic_set(&left, 0);
	atomic_set(&background_stop, 0);
	memset(stop_cpus_seen, 0, sizeof(stop_cpus_seen));
	struct kh_task *bg[2] = { kh_task_start("busy0", -1, background_caller, NULL),
				  kh_task_start("busy1", -1, background_caller, NULL) };
	msleep(5);
	int rc = stop_machine(exclusive_fn, NULL, cpu_online_mask);
	atomic_set(&background_stop, 1);
	kh_task_join(bg[0]);
	kh_task_join(bg[1]);
	kt_set_hcall_delay_us(0);
	if (rc != -EBUSY)
		kt_fail("stop_machine returned %d, want the callback's -EBUSY", rc);
	for (int c = 0; c < 4; c++)
		if (stop_cpus_seen[c] != 1)
			kt_fail("the callback ran %d times on cpu %d, want once", stop_cpus_seen[c], c);
	struct kt_platform_counts c;
	kt_counts(&c);
	if (c.calls_during_stop)
		kt_fail("%lu calls by other tasks while the stop_machine callbacks ran", c.calls_during_stop);
	if (irqs_disabled())
		kt_fail("the caller of stop_machine came back with interrupts disabled");
}

/* ---- voluntary preemption: a pending stop_machine takes the vCPU at the next might_sleep point ------------- */

static DEFINE_MUTEX(kt_preempt_mutex);
static atomic_t runner_started, stop_fn_ran, ran_before_lock;

static int mark_stop(void *arg)
{
	atomic_set(&stop_fn_ran, 1);
	return 0;
}

/* Runs kernel code with no preemption point until a stop_machine is pending, then takes a free mutex: under
 * PREEMPT_VOLUNTARY its might_sleep() lets the stopper waiting for this vCPU run first. */
static int preempt_runner(void *arg)
{
	atomic_set(&runner_started, 1);
	while (!kt_stop_pending())
		plpar_hcall_norets(H_CEDE);
	mutex_lock(&kt_preempt_mutex);
	atomic_set(&ran_before_lock, atomic_read(&stop_fn_ran));
	mutex_unlock(&kt_preempt_mutex);
	return 0;
}

/* Called with vCPUs 0 and 1 online: this task on one, the runner on the other. */
void kt_might_sleep_yields_to_stop_machine(void)
{
	kt_reset_counts();
	atomic_set(&runner_started, 0);
	atomic_set(&stop_fn_ran, 0);
	atomic_set(&ran_before_lock, 0);
	struct kh_task *runner = kh_task_start("runner", -1, preempt_runner, NULL);
	while (!atomic_read(&runner_started))
		cond_resched();
	stop_machine(mark_stop, NULL, cpu_online_mask);
	kh_task_join(runner);
	if (!atomic_read(&ran_before_lock))
		kt_fail("the runner took the mutex before the pending stop_machine ran: mutex_lock is no preemption point");
	if (kt_tracepoints("stop_machine_preempt") != 1)
		kt_fail("%lu stop_machine_preempt tracepoints, want 1", kt_tracepoints("stop_machine_preempt"));
	/* With no stop_machine pending, might_sleep keeps the vCPU. */
	int cpu = smp_processor_id();
	unsigned long preempts = kt_tracepoints("stop_machine_preempt");
	might_sleep();
	mutex_lock(&kt_preempt_mutex);
	mutex_unlock(&kt_preempt_mutex);
	if (smp_processor_id() != cpu || kt_tracepoints("stop_machine_preempt") != preempts)
		kt_fail("might_sleep gave the vCPU away with no stop_machine pending");
}

/* ---- H_JOIN and MSR[EE] ------------------------------------------------------------------------------------ */

void kt_h_join_interrupts(void)
{
	kt_reset_counts();
	long rc = plpar_hcall_norets(H_JOIN);
	if (rc != H_BAD_MODE)
		kt_fail("H_JOIN with interrupts enabled answered %ld, want H_BAD_MODE", rc);
	unsigned long flags;
	local_irq_save(flags);
	rc = plpar_hcall_norets(H_JOIN);
	local_irq_restore(flags);
	if (rc == H_BAD_MODE)
		kt_fail("H_JOIN under local_irq_save was sent with interrupts enabled");
	if (irqs_disabled())
		kt_fail("local_irq_restore did not restore MSR[EE]");
}

/* ---- sleeping gives the vCPU back (one vCPU online) ------------------------------------------------------ */

static atomic_t other_ran;

static int other_task(void *arg)
{
	plpar_hcall_norets(H_CEDE);
	atomic_set(&other_ran, 1);
	return 0;
}

void kt_sleep_gives_back_vcpu(void)
{
	atomic_set(&other_ran, 0);
	struct kh_task *t = kh_task_start("other", -1, other_task, NULL);
	msleep(50);
	if (!atomic_read(&other_ran))
		kt_fail("with one vCPU, another task did not run while this one slept");
	kh_task_join(t);
}

/* ---- a contended mutex: tracepoint, and the waiter gives its vCPU back (one vCPU online) --------------------- */

static DEFINE_MUTEX(kt_mutex);
static atomic_t waiter_has_lock;

static int mutex_waiter(void *arg)
{
	mutex_lock(&kt_mutex);
	atomic_set(&waiter_has_lock, 1);
	mutex_unlock(&kt_mutex);
	return 0;
}

void kt_mutex_contention(void)
{
	kt_reset_counts();
	atomic_set(&waiter_has_lock, 0);
	mutex_lock(&kt_mutex);
	struct kh_task *t = kh_task_start("waiter", -1, mutex_waiter, NULL);
	msleep(20);
	plpar_hcall_norets(H_CEDE);   /* this task got its vCPU back although the waiter is waiting */
	if (kt_tracepoints("lock_contended[kt_mutex]") != 1)
		kt_fail("%lu lock_contended[kt_mutex] tracepoints, want 1", kt_tracepoints("lock_contended[kt_mutex]"));
	if (atomic_read(&waiter_has_lock))
		kt_fail("the waiter took a held mutex");
	mutex_unlock(&kt_mutex);
	kh_task_join(t);
	if (!atomic_read(&waiter_has_lock))
		kt_fail("the waiter never took the mutex");
}

/* ---- RTAS calls are serialized --------------------------------------------------------------------------- */

static int rtas_caller(void *arg)
{
	int token = rtas_token("ibm,activate-firmware");
	for (int i = 0; i < 10; i++)
		rtas_call(token, 0, 1, NULL);
	return 0;
}

void kt_rtas_serialized(void)
{
	kt_reset_counts();
	if (rtas_token("ibm,activate-firmware") == RTAS_UNKNOWN_SERVICE) {
		kt_fail("no ibm,activate-firmware token in /rtas");
		return;
	}
	struct kh_task *t[4];
	for (int i = 0; i < 4; i++) {
		char comm[16];
		snprintf(comm, sizeof(comm), "rtas%d", i);
		t[i] = kh_task_start(comm, -1, rtas_caller, NULL);
	}
	for (int i = 0; i < 4; i++)
		kh_task_join(t[i]);
	struct kt_platform_counts c;
	kt_counts(&c);
	if (c.rtas_overlap || c.max_rtas_in_flight != 1)
		kt_fail("RTAS calls overlapped (%lu overlaps, %lu at most in flight)", c.rtas_overlap, c.max_rtas_in_flight);
}

/* ---- sysfs --------------------------------------------------------------------------------------------------- */

static char stored[64];

static ssize_t value_store(struct kobject *kobj, struct kobj_attribute *attr, const char *buf, size_t count)
{
	u64 v;
	if (kstrtou64(buf, 0, &v))
		return -EINVAL;
	snprintf(stored, sizeof(stored), "%llu", v);
	return count;
}

static ssize_t value_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sprintf(buf, "%s\n", stored);
}

static struct kobj_attribute value_attr = __ATTR(value, 0644, value_show, value_store);
static struct kobj_attribute ro_attr = __ATTR(ro, 0444, value_show, NULL);

void kt_sysfs_registry(void)
{
	struct kobject *k = kobject_create_and_add("kt", kernel_kobj);
	sysfs_create_file(k, &value_attr.attr);
	sysfs_create_file(k, &ro_attr.attr);
	int rc = kh_sys_sysfs_write("/sys/kernel/kt/value", "42\n");
	if (rc || strcmp(stored, "42") != 0)
		kt_fail("write of /sys/kernel/kt/value: rc %d, stored '%s'", rc, stored);
	char buf[64];
	rc = kh_sys_sysfs_read("/sys/kernel/kt/value", buf, sizeof(buf));
	if (rc || strcmp(buf, "42\n") != 0)
		kt_fail("read of /sys/kernel/kt/value: rc %d, '%s'", rc, buf);
	if (kh_sys_sysfs_write("/sys/kernel/kt/value", "forty-two") != -EINVAL)
		kt_fail("a bad value did not answer -EINVAL");
	if (kh_sys_sysfs_write("/sys/kernel/kt/ro", "1") != -EACCES)
		kt_fail("a write to a read-only attribute did not answer -EACCES");
	if (kh_sys_sysfs_write("/sys/kernel/kt/missing", "1") != -ENOENT)
		kt_fail("a write to a missing attribute did not answer -ENOENT");
}

/* ---- the device tree and its notifier chain ---------------------------------------------------------------- */

static unsigned long last_action;
static struct device_node *last_node;
static int notified;

static int kt_notifier(struct notifier_block *nb, unsigned long action, void *data)
{
	struct of_reconfig_data *rd = data;
	last_action = action;
	last_node = rd->dn;
	notified++;
	return NOTIFY_OK;
}

static struct notifier_block kt_nb = { .notifier_call = kt_notifier };

void kt_device_tree(void)
{
	struct device_node *cpu = of_find_node_by_path("/cpus/PowerPC,POWER10@0");
	if (!cpu) {
		kt_fail("/cpus/PowerPC,POWER10@0 not found");
		return;
	}
	if (of_find_node_by_phandle(0x1000) != cpu)
		kt_fail("phandle 0x1000 does not find the cpu node");
	char path[128];
	snprintf(path, sizeof(path), "%pOF", cpu);
	if (strcmp(path, "/cpus/PowerPC,POWER10@0") != 0)
		kt_fail("%%pOF printed '%s'", path);
	if (!of_node_is_type(cpu, "cpu"))
		kt_fail("of_node_is_type(cpu) is false");

	of_reconfig_notifier_register(&kt_nb);
	notified = 0;
	struct device_node *cpus = of_get_parent(cpu);
	if (of_detach_node(cpu) || notified != 1 || last_action != OF_RECONFIG_DETACH_NODE || last_node != cpu)
		kt_fail("detach: %d notifications, last action %lu", notified, last_action);
	if (of_find_node_by_phandle(0x1000))
		kt_fail("a detached node is still found by phandle");

	struct device_node *dn = kh_of_new_node("PowerPC,POWER10@8");
	__be32 ph = cpu_to_be32(0x1001);
	dn->properties = kh_of_new_property("ibm,phandle", &ph, 4);
	dn->parent = cpus;
	if (of_attach_node(dn) || notified != 2 || last_action != OF_RECONFIG_ATTACH_NODE)
		kt_fail("attach: %d notifications, last action %lu", notified, last_action);
	if (of_find_node_by_phandle(0x1001) != dn)
		kt_fail("an attached node does not take its phandle from ibm,phandle");
	if (strcmp(dn->name, "PowerPC,POWER10") != 0)
		kt_fail("an attached node is named '%s'", dn->name);

	__be32 v = cpu_to_be32(7);
	of_update_property(dn, kh_of_new_property("ibm,associativity", &v, 4));
	int len;
	const __be32 *got = of_get_property(dn, "ibm,associativity", &len);
	if (!got || len != 4 || be32_to_cpup(got) != 7 || last_action != OF_RECONFIG_UPDATE_PROPERTY)
		kt_fail("update_property did not take or was not announced");
	of_remove_property(dn, of_find_property(dn, "ibm,associativity", NULL));
	if (of_get_property(dn, "ibm,associativity", NULL) || last_action != OF_RECONFIG_REMOVE_PROPERTY)
		kt_fail("remove_property did not take or was not announced");
	if (of_remove_property(dn, NULL) != -ENODEV)
		kt_fail("removing a missing property did not answer -ENODEV");
	of_reconfig_notifier_unregister(&kt_nb);
}

/* ---- numbers and formats ------------------------------------------------------------------------------------ */

void kt_kstrto(void)
{
	u64 v;
	u16 s;
	if (kstrtou64("0x10", 0, &v) || v != 16)
		kt_fail("kstrtou64(0x10, 0)");
	if (kstrtou64("10\n", 0, &v) || v != 10)
		kt_fail("kstrtou64 with a trailing newline");
	if (kstrtou64("010", 0, &v) || v != 8)
		kt_fail("kstrtou64(010, 0) is octal");
	if (kstrtou64("10x", 0, &v) != -EINVAL || kstrtou64("", 0, &v) != -EINVAL)
		kt_fail("kstrtou64 accepted junk");
	if (kstrtou64("18446744073709551616", 10, &v) != -ERANGE)
		kt_fail("kstrtou64 overflow");
	if (kstrtou16("65536", 0, &s) != -ERANGE || kstrtou16("65535", 0, &s) || s != 65535)
		kt_fail("kstrtou16 range");
}

void kt_printk_formats(void)
{
	char buf[128];
	snprintf(buf, sizeof(buf), "%d %u %ld %llu %lx %s %5d|%-3s|%c %%", -3, 4u, -5L, 6ULL, 0xabUL, "x", 7, "y", 'z');
	if (strcmp(buf, "-3 4 -5 6 ab x     7|y  |z %") != 0)
		kt_fail("formats: '%s'", buf);
	snprintf(buf, sizeof(buf), "%*d|%.*s|%zu|%hhu", 4, 1, 2, "abc", (size_t)9, (unsigned char)200);
	if (strcmp(buf, "   1|ab|9|200") != 0)
		kt_fail("formats with * and length modifiers: '%s'", buf);
	int n = snprintf(buf, 4, "%s", "abcdef");
	if (n != 6 || strcmp(buf, "abc") != 0)
		kt_fail("truncation: %d '%s'", n, buf);
}
