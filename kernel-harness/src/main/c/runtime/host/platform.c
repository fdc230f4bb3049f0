/*
 * Calls out of the machine: hcalls, RTAS calls and tracepoints, each made on the calling task's vCPU and
 * sent to whatever platform is plugged in (the daemon through khc in kguest, a fake one in the tests).
 *
 * The hcall ABI passes guest buffers by physical address; here the address is the guest's own pointer and
 * the bytes travel on the wire. The table below says which hcalls have the hypervisor write a buffer, at
 * which argument and how large it is (PAPR: capability pages are 4 KiB, a fault CRB is 128 bytes).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kh_internal.h"

static const struct kh_platform_ops *ops;
static void *ops_ctx;

void kh_set_platform(const struct kh_platform_ops *o, void *ctx)
{
	ops = o;
	ops_ctx = ctx;
}

static const struct {
	unsigned long opcode;
	const char *name;
	int buffer_arg;        /* argument holding the guest buffer's address, or -1 */
	size_t buffer_len;
} hcalls[] = {
	{ 0xE0, "H_CEDE", -1, 0 },
	{ 0xE4, "H_CONFER", -1, 0 },
	{ 0xE8, "H_PROD", -1, 0 },
	{ 0x298, "H_JOIN", -1, 0 },
	{ 0x2A0, "H_VASI_SIGNAL", -1, 0 },
	{ 0x2A4, "H_VASI_STATE", -1, 0 },
	{ 0x2EC, "H_HOME_NODE_ASSOCIATIVITY", -1, 0 },
	{ 0x388, "H_ALLOCATE_VAS_WINDOW", -1, 0 },
	{ 0x38C, "H_MODIFY_VAS_WINDOW", -1, 0 },
	{ 0x390, "H_DEALLOCATE_VAS_WINDOW", -1, 0 },
	{ 0x394, "H_QUERY_VAS_WINDOW", 1, 4096 },
	{ 0x398, "H_QUERY_VAS_CAPABILITIES", 1, 4096 },
	{ 0x39C, "H_QUERY_NX_CAPABILITIES", 1, 4096 },
	{ 0x3A0, "H_GET_NX_FAULT", 1, 128 },
	{ 0xF100, "H_LPAREMU_NX_PASTE", -1, 0 },
};

static int hcall_index(unsigned long opcode)
{
	for (size_t i = 0; i < sizeof(hcalls) / sizeof(hcalls[0]); i++)
		if (hcalls[i].opcode == opcode)
			return (int)i;
	return -1;
}

static void platform_lost(const char *why)
{
	static int once;
	if (__atomic_exchange_n(&once, 1, __ATOMIC_SEQ_CST))
		return;
	if (ops && ops->lost)
		ops->lost(ops_ctx, why);
}

#define H_HARDWARE (-1L)

long kh_hcall(unsigned long opcode, int nargs, const unsigned long *args, int nrets, unsigned long *rets)
{
	int idx = hcall_index(opcode);
	char what[48];
	if (idx >= 0)
		snprintf(what, sizeof(what), "%s", hcalls[idx].name);
	else
		snprintf(what, sizeof(what), "hcall 0x%lx", opcode);
	for (int i = 0; i < nrets; i++)
		rets[i] = 0;
	if (!ops)
		kh_panic("%s with no platform plugged in", what);
	struct kh_task *t = kh_task_self();
	int vcpu = kh_call_enter(what, 0, 0);
	void *out = NULL;
	size_t out_cap = 0;
	if (idx >= 0 && hcalls[idx].buffer_arg >= 0 && hcalls[idx].buffer_arg < nargs) {
		out = (void *)(uintptr_t)args[hcalls[idx].buffer_arg];
		out_cap = out ? hcalls[idx].buffer_len : 0;
	}
	long status = H_HARDWARE;
	struct kh_call_refusal refusal = { 0 };
	int r = ops->hcall(ops_ctx, vcpu, t->comm, t->irqs_disabled, opcode, nargs, args, &status, nrets, rets, out,
			   out_cap, &refusal);
	kh_call_exit(0, 0);
	__atomic_add_fetch(&kh_counters.hcalls, 1, __ATOMIC_RELAXED);
	if (r == KH_CALL_REFUSED) {
		/* The machine broke the vCPU contract (or the daemon sees it differently): say so, loudly, and let
		 * the kernel see a hardware error rather than a success that did not happen. */
		__atomic_add_fetch(&kh_counters.refused, 1, __ATOMIC_RELAXED);
		kh_console("CallRefused for %s on vCPU %d (task %s): %s", what, vcpu, t->comm, refusal.text);
		return H_HARDWARE;
	}
	if (r == KH_CALL_LOST) {
		platform_lost(what);
		return H_HARDWARE;
	}
	return status;
}

int kh_rtas(const char *service, int nargs, const long *args, int nrets, long *rets, void *work_area,
	    unsigned long work_len)
{
	char what[48];
	snprintf(what, sizeof(what), "%s", service);
	for (int i = 0; i < nrets; i++)
		rets[i] = 0;
	if (!ops)
		kh_panic("RTAS %s with no platform plugged in", service);
	struct kh_task *t = kh_task_self();
	int exempt = strcmp(service, "stop-self") == 0;
	int vcpu = kh_call_enter(what, 1, exempt);
	int status = -1;
	struct kh_call_refusal refusal = { 0 };
	int r = ops->rtas(ops_ctx, vcpu, t->comm, service, nargs, args, &status, nrets, rets, work_area, work_len,
			  &refusal);
	kh_call_exit(1, exempt);
	__atomic_add_fetch(&kh_counters.rtas_calls, 1, __ATOMIC_RELAXED);
	if (r == KH_CALL_REFUSED) {
		__atomic_add_fetch(&kh_counters.refused, 1, __ATOMIC_RELAXED);
		kh_console("CallRefused for RTAS %s on vCPU %d (task %s): %s", service, vcpu, t->comm, refusal.text);
		return -1;
	}
	if (r == KH_CALL_LOST) {
		platform_lost(what);
		return -1;
	}
	return status;
}

static void vtrace(struct kh_task *t, const char *name, const char *fmt, va_list ap)
{
	if (!ops || !ops->tracepoint)
		return;
	char detail[512];
	vsnprintf(detail, sizeof(detail), fmt, ap);
	int vcpu = t && t->vcpu >= 0 ? t->vcpu : 0;
	ops->tracepoint(ops_ctx, vcpu, t ? t->comm : "", name, detail);
}

void kh_tracepoint(const char *name, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vtrace(kh_task_self(), name, fmt, ap);
	va_end(ap);
}

void kh_trace_as(struct kh_task *t, const char *name, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vtrace(t, name, fmt, ap);
	va_end(ap);
}

/* ---- errors returned to user space ------------------------------------------------------------------ */

static const struct {
	int no;
	const char *name;
} errnames[] = {
	{ 1, "EPERM" }, { 2, "ENOENT" }, { 4, "EINTR" }, { 5, "EIO" }, { 6, "ENXIO" }, { 9, "EBADF" },
	{ 11, "EAGAIN" }, { 12, "ENOMEM" }, { 13, "EACCES" }, { 14, "EFAULT" }, { 16, "EBUSY" },
	{ 17, "EEXIST" }, { 19, "ENODEV" }, { 22, "EINVAL" }, { 28, "ENOSPC" }, { 34, "ERANGE" },
	{ 61, "ENODATA" }, { 95, "EOPNOTSUPP" }, { 110, "ETIMEDOUT" }, { 125, "ECANCELED" }, { 524, "ENOTSUPP" },
};
#define NERRNAMES (sizeof(errnames) / sizeof(errnames[0]))
static uint64_t errcounts[NERRNAMES + 1];   /* the last slot counts the unnamed */

const char *kh_errno_name(int e)
{
	int no = e < 0 ? -e : e;
	for (size_t i = 0; i < NERRNAMES; i++)
		if (errnames[i].no == no)
			return errnames[i].name;
	return "EUNKNOWN";
}

void kh_count_errno(int e)
{
	if (e >= 0)
		return;
	size_t slot = NERRNAMES;
	for (size_t i = 0; i < NERRNAMES; i++)
		if (errnames[i].no == -e)
			slot = i;
	__atomic_add_fetch(&errcounts[slot], 1, __ATOMIC_RELAXED);
}

void kh_errno_counts(void (*fn)(void *ctx, const char *name, uint64_t count), void *ctx)
{
	for (size_t i = 0; i <= NERRNAMES; i++) {
		uint64_t n = __atomic_load_n(&errcounts[i], __ATOMIC_RELAXED);
		if (n)
			fn(ctx, i < NERRNAMES ? errnames[i].name : "EUNKNOWN", n);
	}
}
