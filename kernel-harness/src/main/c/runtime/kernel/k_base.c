/*
 * Kernel-side basics: printing, strings and numbers, the hcall entry point, locks' kernel-facing halves,
 * completions, the CPU mask, stop_machine, and the explicit no-ops for what is not modelled.
 */
#include <linux/kernel.h>
#include <asm/hvcall.h>

/* ---- printing ---------------------------------------------------------------------------------------- */

int printk(const char *fmt, ...)
{
	int level = 0;
	if (fmt[0] == KERN_SOH[0] && fmt[1]) {
		level = fmt[1] >= '0' && fmt[1] <= '7' ? fmt[1] - '0' : 0;
		fmt += 2;
	}
	va_list ap;
	va_start(ap, fmt);
	kh_vprintk(level, fmt, ap);
	va_end(ap);
	return 0;
}

int sprintf(char *buf, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = kh_vsnprintf(buf, PAGE_SIZE, fmt, ap);
	va_end(ap);
	return n;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = kh_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int scnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = kh_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (size == 0)
		return 0;
	return n < (int)size ? n : (int)size - 1;
}

int sysfs_emit(char *buf, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = kh_vsnprintf(buf, PAGE_SIZE, fmt, ap);
	va_end(ap);
	return n;
}

char *kvasprintf(gfp_t gfp, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = kh_vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	char *s = kmalloc(n + 1, gfp);
	if (s)
		kh_vsnprintf(s, n + 1, fmt, ap);
	return s;
}

char *kasprintf(gfp_t gfp, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = kvasprintf(gfp, fmt, ap);
	va_end(ap);
	return s;
}

int kh_warn(const char *cond, const char *file, int line, const char *func)
{
	printk(KERN_WARNING "WARNING: %s at %s:%d %s()\n", cond, file, line, func);
	return 1;
}

/* ---- strings and numbers ----------------------------------------------------------------------------- */

char *kstrdup(const char *s, gfp_t gfp)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	char *d = kmalloc(n, gfp);
	if (d)
		memcpy(d, s, n);
	return d;
}

const char *kstrdup_const(const char *s, gfp_t gfp)
{
	return kstrdup(s, gfp);
}

void *kmemdup(const void *src, size_t len, gfp_t gfp)
{
	void *d = kmalloc(len, gfp);
	if (d)
		memcpy(d, src, len);
	return d;
}

ssize_t strscpy(char *dst, const char *src, size_t size)
{
	if (!size)
		return -E2BIG;
	size_t n = strlen(src);
	if (n >= size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = 0;
		return -E2BIG;
	}
	memcpy(dst, src, n + 1);
	return (ssize_t)n;
}

/* kstrto*: the kernel's rules: optional sign for signed types, base 0 = auto (0x, 0), one trailing newline
 * allowed, nothing else; -EINVAL for no digits or junk, -ERANGE for overflow. */
static int parse_u64(const char *s, unsigned int base, u64 *res)
{
	if (*s == '+')
		s++;
	if (base == 0) {
		if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
			base = 16, s += 2;
		else if (s[0] == '0' && s[1])
			base = 8, s++;
		else
			base = 10;
	} else if (base == 16 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
	}
	u64 v = 0;
	int digits = 0;
	for (; *s; s++) {
		unsigned int d;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			break;
		if (d >= base)
			break;
		if (v > (U64_MAX - d) / base)
			return -ERANGE;
		v = v * base + d;
		digits++;
	}
	if (*s == '\n')
		s++;
	if (!digits || *s)
		return -EINVAL;
	*res = v;
	return 0;
}

int kstrtou64(const char *s, unsigned int base, u64 *res)
{
	return parse_u64(s, base, res);
}

int kstrtou32(const char *s, unsigned int base, u32 *res)
{
	u64 v;
	int rc = parse_u64(s, base, &v);
	if (rc)
		return rc;
	if (v > U32_MAX)
		return -ERANGE;
	*res = (u32)v;
	return 0;
}

int kstrtou16(const char *s, unsigned int base, u16 *res)
{
	u64 v;
	int rc = parse_u64(s, base, &v);
	if (rc)
		return rc;
	if (v > U16_MAX)
		return -ERANGE;
	*res = (u16)v;
	return 0;
}

int kstrtoint(const char *s, unsigned int base, int *res)
{
	int neg = *s == '-';
	u64 v;
	int rc = parse_u64(s + neg, base, &v);
	if (rc)
		return rc;
	if (v > (u64)INT_MAX + neg)
		return -ERANGE;
	*res = neg ? -(int)(v - 1) - 1 : (int)v;
	return 0;
}

/* ---- hcalls ------------------------------------------------------------------------------------------ */

long kh_plpar_hcall(unsigned long opcode, int nrets, unsigned long *rets, int nargs, ...)
{
	unsigned long args[12] = { 0 };
	va_list ap;
	va_start(ap, nargs);
	for (int i = 0; i < nargs && i < 12; i++)
		args[i] = va_arg(ap, unsigned long);
	va_end(ap);
	if (nargs > 9)
		kh_panic("hcall 0x%lx with %d arguments (PAPR passes at most 9)", opcode, nargs);
	return kh_hcall(opcode, nargs, args, nrets, rets);
}

/* ---- locks -------------------------------------------------------------------------------------------- */

/* mutex_init(&txwin->task_ref.mmap_mutex) names the lock "mmap_mutex", as lockdep names it by its field. */
void kh_mutex_init_named(struct mutex *m, const char *expr)
{
	const char *name = expr;
	for (const char *p = expr; *p; p++)
		if (*p == '.' || *p == '>' || *p == '&' || *p == '(' || *p == ' ')
			name = p + 1;
	memset(&m->area, 0, sizeof(m->area));
	m->name = name;
}

void kh_rwsem_down_read(struct rw_semaphore *s, const char *site) { kh_rw_down(&s->area, s->name, 0, site); }
void kh_rwsem_up_read(struct rw_semaphore *s) { kh_rw_up(&s->area, 0); }
void kh_rwsem_down_write(struct rw_semaphore *s, const char *site) { kh_rw_down(&s->area, s->name, 1, site); }
void kh_rwsem_up_write(struct rw_semaphore *s) { kh_rw_up(&s->area, 1); }

/* The CPU-hotplug lock (cpu_hotplug_lock) and the device-hotplug lock: real sleeping locks, so a DLPAR
 * that would take them writing waits for a migration's device-tree update, as in the kernel. */
static struct rw_semaphore cpu_hotplug_lock = { .name = "cpu_hotplug_lock" };
static DEFINE_MUTEX(device_hotplug_lock);

void cpus_read_lock(void) { down_read(&cpu_hotplug_lock); }
void cpus_read_unlock(void) { up_read(&cpu_hotplug_lock); }
void kh_cpus_write_lock(void) { down_write(&cpu_hotplug_lock); }
void kh_cpus_write_unlock(void) { up_write(&cpu_hotplug_lock); }
void lock_device_hotplug(void) { mutex_lock(&device_hotplug_lock); }
void unlock_device_hotplug(void) { mutex_unlock(&device_hotplug_lock); }

static int completion_done_cond(void *arg)
{
	return ((struct completion *)arg)->done != 0;
}

static void completion_one(void *arg)
{
	((struct completion *)arg)->done++;
}

static void completion_all(void *arg)
{
	((struct completion *)arg)->done = UINT_MAX / 2;
}

void complete(struct completion *c) { kh_wake_all(&c->q, completion_one, c); }
void complete_all(struct completion *c) { kh_wake_all(&c->q, completion_all, c); }

static void completion_take(void *arg)
{
	struct completion *c = arg;
	if (c->done && c->done != UINT_MAX / 2)
		c->done--;
}

void wait_for_completion(struct completion *c)
{
	kh_wait_until(&c->q, completion_done_cond, c, __func__);
	kh_wake_all(&c->q, completion_take, c);
}

unsigned long msleep_interruptible(unsigned int ms)
{
	kh_msleep(ms, __func__);
	return 0;
}

volatile unsigned long jiffies;

/* ---- CPUs and stop_machine ---------------------------------------------------------------------------- */

static __thread struct cpumask online_snapshot;

const struct cpumask *kh_cpu_online_mask(void)
{
	memset(&online_snapshot, 0, sizeof(online_snapshot));
	for (int cpu = 0; cpu < kh_cpu_count() && cpu < NR_CPUS; cpu++)
		if (kh_cpu_online(cpu))
			online_snapshot.bits[cpu / BITS_PER_LONG] |= 1UL << (cpu % BITS_PER_LONG);
	return &online_snapshot;
}

int stop_machine(int (*fn)(void *), void *data, const struct cpumask *cpus)
{
	/* The kernel's callers here (pseries_suspend) pass cpu_online_mask: fn runs on every online CPU. */
	for (int cpu = 0; cpu < kh_cpu_count(); cpu++)
		if (kh_cpu_online(cpu) && !cpumask_test_cpu(cpu, cpus))
			kh_panic("stop_machine on a subset of the online CPUs is not modelled");
	return kh_stop_machine(fn, data);
}

/* ---- firmware, partition -------------------------------------------------------------------------------- */

bool kh_firmware_has_feature(u64 feature)
{
	/* A PowerVM logical partition. */
	return (feature & ~FW_FEATURE_LPAR) == 0;
}

bool is_shared_processor(void)
{
	return kh_partition_shared() != 0;
}

/* ---- not modelled -------------------------------------------------------------------------------------- */

void cacheinfo_teardown(void) { }
void cacheinfo_rebuild(void) { }
void pseries_setup_security_mitigations(void) { }
