/*
 * Boot and the platform's events, entered the way Linux and its tools enter them:
 *
 *   boot          the device initcalls in link order (pseries_vas_init, mobility_sysfs_init ...), then the NX
 *                 driver's registration of the nx-gzip user API (nx-common-pseries.c's init does that once it
 *                 has found the NX-GZIP capability; here: whenever vas.c found copy/paste usable);
 *   migration     drmgr writes the VASI stream id to /sys/kernel/mobility/migration (mobility.c's
 *                 migration_store: the whole pseries_migrate_partition);
 *   QoS credits   drmgr writes the new total to .../gzip/qos_capabilities/update_total_credits (vas-sysfs.c);
 *   PRRN          v5.9+ kernels log PRRN events and ignore them (rtasd), so this does the same;
 *   processor     k_dlpar.c.
 */
#include <linux/kernel.h>
#include <asm/vas.h>

#include "k_internal.h"
#include "kh_features.h"

extern kh_initcall_t __start_kh_initcalls[];
extern kh_initcall_t __stop_kh_initcalls[];

#define MIGRATION_ATTR "/sys/kernel/mobility/migration"
#define QOS_ATTR "/sys/devices/virtual/misc/vas/vas0/gzip/qos_capabilities/update_total_credits"

static unsigned long long migrations_ok, migrations_failed;

const char *kh_kernel_version(void) { return KH_KERNEL_VERSION; }
const char *kh_kernel_flavour(void) { return KH_FLAVOUR; }

int kh_kernel_boot(void)
{
	int failures = 0;
	for (kh_initcall_t *fn = __start_kh_initcalls; fn < __stop_kh_initcalls; fn++) {
		int rc = (*fn)();
		if (rc) {
			pr_warn("kharness: initcall %p returned %d\n", (void *)*fn, rc);
			failures++;
		}
	}
	int rc = vas_register_api_pseries(THIS_MODULE, VAS_COP_TYPE_GZIP, "nx-gzip");
	if (rc)
		pr_warn("kharness: nx-gzip user API not registered (%d)\n", rc);
	pr_info("kharness: Linux %s (%s) booted, %d vCPUs, copy/paste %s\n", KH_KERNEL_VERSION, KH_FLAVOUR,
		kh_cpu_count(), kh_vas_copypaste() ? "available" : "not available");
	return failures;
}

int kh_event_migration(unsigned long long stream_id, char *detail, unsigned long size)
{
	char buf[32];
	kh_snprintf(buf, sizeof(buf), "%llu", stream_id);
	int rc = kh_sys_sysfs_write(MIGRATION_ATTR, buf);
	if (rc == 0)
		__atomic_add_fetch(&migrations_ok, 1, __ATOMIC_RELAXED);
	else
		__atomic_add_fetch(&migrations_failed, 1, __ATOMIC_RELAXED);
	if (rc == 0)
		kh_snprintf(detail, size, "migration of stream %llu complete", stream_id);
	else
		kh_snprintf(detail, size, "migration of stream %llu failed: %s", stream_id, kh_errno_name(rc));
	return rc;
}

int kh_event_qos_credits(unsigned int credits, char *detail, unsigned long size)
{
	char buf[16];
	kh_snprintf(buf, sizeof(buf), "%u", credits);
	int rc = kh_sys_sysfs_write(QOS_ATTR, buf);
	kh_snprintf(detail, size, "QoS credits %u %s%s", credits, rc ? "failed: " : "set", rc ? kh_errno_name(rc) : "");
	return rc;
}

int kh_event_prrn(unsigned int scope, char *detail, unsigned long size)
{
	pr_info("kharness: PRRN event (scope %u) ignored, as Linux v5.9+ does\n", scope);
	kh_tracepoint("prrn_ignored", "scope %u", scope);
	kh_snprintf(detail, size, "PRRN ignored");
	return 0;
}

void kh_mobility_counters(unsigned long long *ok, unsigned long long *failed)
{
	*ok = __atomic_load_n(&migrations_ok, __ATOMIC_RELAXED);
	*failed = __atomic_load_n(&migrations_failed, __ATOMIC_RELAXED);
}

void kh_kernel_report(void)
{
	unsigned long long mok, mfail, pok, pfail;
	kh_vas_report();
	kh_of_report();
	kh_mobility_counters(&mok, &mfail);
	kh_user_report(&pok, &pfail);
	kh_report_counters(mok, mfail, pok, pfail);
}
