/*
 * RTAS: the kernel's rtas.c is not compiled; this is our own implementation of the entry points the
 * pseries files use, from their documented behaviour (papr-notes 2.4, 6.1, 6.3).
 *
 * A token is what firmware put in the /rtas node for a service; rtas_call() finds the service by its token,
 * takes rtas_lock (one RTAS call in flight per partition, as Linux serializes RTAS), and makes the call on the
 * caller's vCPU. Services that take a work area (update-nodes, update-properties, configure-connector) get it
 * as their first argument, by address: the 4 KiB area travels by value and comes back overwritten.
 */
#include <linux/kernel.h>
#include <asm/rtas.h>

#include "k_internal.h"

DEFINE_SPINLOCK(rtas_data_buf_lock);
char rtas_data_buf[RTAS_DATA_BUF_SIZE] __aligned(SZ_4K);
static DEFINE_RAW_SPINLOCK(rtas_lock);

static const char *const work_area_services[] = {
	"ibm,update-nodes", "ibm,update-properties", "ibm,configure-connector",
};

static bool takes_work_area(const char *service)
{
	for (size_t i = 0; i < ARRAY_SIZE(work_area_services); i++)
		if (strcmp(service, work_area_services[i]) == 0)
			return true;
	return false;
}

int rtas_token(const char *service)
{
	struct device_node *rtas = of_find_node_by_path("/rtas");
	int len;
	const __be32 *tok = rtas ? of_get_property(rtas, service, &len) : NULL;
	return tok && len >= 4 ? (int)be32_to_cpup(tok) : RTAS_UNKNOWN_SERVICE;
}

/* The service whose /rtas property holds token, or NULL. The name points into the device tree. */
static const char *service_of(int token)
{
	struct device_node *rtas = of_find_node_by_path("/rtas");
	for (struct property *p = rtas ? rtas->properties : NULL; p; p = p->next)
		if (p->length == 4 && strncmp(p->name, "ibm,", 4) == 0 && (int)be32_to_cpup(p->value) == token)
			return p->name;
	return NULL;
}

#ifdef RTAS_FN_IBM_UPDATE_NODES
/* 6.3+: services are named by handle; the ones the pseries files use here. */
static const struct {
	enum rtas_function_index index;
	const char *service;
} functions[] = {
	{ RTAS_FNIDX__IBM_SUSPEND_ME, "ibm,suspend-me" },
	{ RTAS_FNIDX__IBM_UPDATE_NODES, "ibm,update-nodes" },
	{ RTAS_FNIDX__IBM_UPDATE_PROPERTIES, "ibm,update-properties" },
	{ RTAS_FNIDX__IBM_ACTIVATE_FIRMWARE, "ibm,activate-firmware" },
	{ RTAS_FNIDX__IBM_CONFIGURE_CONNECTOR, "ibm,configure-connector" },
	{ RTAS_FNIDX__STOP_SELF, "stop-self" },
	{ RTAS_FNIDX__START_CPU, "start-cpu" },
};

s32 rtas_function_token(const rtas_fn_handle_t handle)
{
	for (size_t i = 0; i < ARRAY_SIZE(functions); i++)
		if (functions[i].index == handle.index)
			return rtas_token(functions[i].service);
	return RTAS_UNKNOWN_SERVICE;
}
#endif

static int token_of(const char *service)
{
	return rtas_token(service);
}

int rtas_call(int token, int nargs, int nret, int *outputs, ...)
{
	const char *service = service_of(token);
	if (!service) {
		pr_err("kharness: rtas_call with unknown token %d\n", token);
		return -1;
	}
	if (nargs > 16 || nret > 16)
		kh_panic("rtas_call %s with %d arguments and %d outputs", service, nargs, nret);
	long args[16] = { 0 };
	void *work_area = NULL;
	va_list ap;
	va_start(ap, outputs);
	for (int i = 0; i < nargs; i++) {
		/* RTAS arguments are 32-bit cells; a work area is passed by address (64 bits here). */
		unsigned long v = va_arg(ap, unsigned long);
		if (i == 0 && takes_work_area(service)) {
			work_area = (void *)(uintptr_t)v;
			args[i] = (long)v;
		} else {
			args[i] = (long)(int)(u32)v;
		}
	}
	va_end(ap);
	if (work_area && work_area != (void *)rtas_data_buf)
		kh_panic("rtas_call %s with a work area outside rtas_data_buf", service);

	long rets[16] = { 0 };
	unsigned long flags;
	raw_spin_lock_irqsave(&rtas_lock, flags);
	int status = kh_rtas(service, nargs, args, nret > 0 ? nret - 1 : 0, rets, work_area,
			     work_area ? RTAS_DATA_BUF_SIZE : 0);
	raw_spin_unlock_irqrestore(&rtas_lock, flags);
	if (outputs)
		for (int i = 0; i + 1 < nret; i++)
			outputs[i] = (int)rets[i];
	return status;
}

int rtas_ibm_suspend_me(int *fw_status)
{
	int token = token_of("ibm,suspend-me");
	if (token == RTAS_UNKNOWN_SERVICE)
		return -ENOENT;
	int fwrc = rtas_call(token, 0, 1, NULL);
	int ret;
	switch (fwrc) {
	case 0:
		ret = 0;
		break;
	case RTAS_SUSPEND_ABORTED:
		ret = -ECANCELED;
		break;
	case RTAS_THREADS_ACTIVE:
		ret = -EAGAIN;
		break;
	case RTAS_NOT_SUSPENDABLE:
	case RTAS_OUTSTANDING_COPROC:
		ret = -EBUSY;
		break;
	default:
		ret = -EIO;
		break;
	}
	if (fw_status)
		*fw_status = fwrc;
	return ret;
}

void rtas_activate_firmware(void)
{
	int token = token_of("ibm,activate-firmware");
	if (token == RTAS_UNKNOWN_SERVICE) {
		pr_notice("ibm,activate-firmware method unavailable\n");
		return;
	}
	int fwrc;
	for (;;) {
		fwrc = rtas_call(token, 0, 1, NULL);
		if (fwrc == RTAS_BUSY) {
			cond_resched();
		} else if (fwrc >= RTAS_EXTENDED_DELAY_MIN && fwrc <= RTAS_EXTENDED_DELAY_MAX) {
			unsigned long ms = 1;
			for (int i = RTAS_EXTENDED_DELAY_MIN; i < fwrc; i++)
				ms *= 10;
			msleep(ms);
		} else {
			break;
		}
	}
	if (fwrc)
		pr_err("ibm,activate-firmware failed (%i)\n", fwrc);
}
