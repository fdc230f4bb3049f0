/*
 * The shim prelude: the userspace machine that Linux's pseries VAS and mobility files are compiled
 * against. It is force-included (-include kh/prelude.h) into every kernel-side translation unit, which are
 * compiled with -nostdinc: the kernel headers named by the kernel files either are the kernel's own (the
 * PAPR ABI, VAS structures, RTAS declarations, list.h; listed in kernel-files.txt) or are one-line stubs in
 * this directory whose content is here.
 *
 * This is our own description of what each kernel interface does, written for this harness. Where the
 * kernel has a concept we model (a lock, a sleep, a vCPU, a device-tree node, a sysfs file, a character
 * device), the definition here forwards to the runtime (src/main/c/runtime); where the kernel has a concept
 * we do not model (watchdogs, SLB sizing, cacheinfo, hv-24x7), it is an explicit no-op.
 *
 * Sections: compiler and types; errors; printing; byte order and bits; atomics and ordering; memory and
 * strings; time and sleeping; locks; CPUs, interrupts and stop_machine; tasks, pids and mm; IRQ domains;
 * device tree; sysfs, devices and files; RTAS and firmware; initcalls and modules; odds and ends.
 */
#ifndef KH_PRELUDE_H
#define KH_PRELUDE_H

#include "kh/host.h"

/* ================================================================================================
 * Compiler and types
 */

#define __KH_CONCAT2(a, b) a##b
#define __KH_CONCAT(a, b) __KH_CONCAT2(a, b)

#define NULL ((void *)0)
#define offsetof(type, member) __builtin_offsetof(type, member)
#define offsetofend(type, member) (offsetof(type, member) + sizeof(((type *)0)->member))
#define __stringify_1(x...) #x
#define __stringify(x...) __stringify_1(x)

#define __always_inline inline __attribute__((__always_inline__))
#define noinline __attribute__((__noinline__))
#define __packed __attribute__((__packed__))
#define __aligned(x) __attribute__((__aligned__(x)))
#define __maybe_unused __attribute__((__unused__))
#define __always_unused __attribute__((__unused__))
#define __used __attribute__((__used__))
#define __cold __attribute__((__cold__))
#define __must_check __attribute__((__warn_unused_result__))
#define __printf(a, b) __attribute__((__format__(printf, a, b)))
#define __noreturn __attribute__((__noreturn__))
#define __weak __attribute__((__weak__))
#define __section(s) __attribute__((__section__(s)))
#define __user
#define __kernel
#define __iomem
#define __force
#define __rcu
#define __percpu
#define __init
#define __exit
#define __initdata
#define __ro_after_init
#define __read_mostly
#define __bitwise
#define __randomize_layout
#define notrace
#define fallthrough __attribute__((__fallthrough__))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define barrier() __asm__ __volatile__("" : : : "memory")
#define BUILD_BUG_ON(cond) _Static_assert(!(cond), "BUILD_BUG_ON(" #cond ")")
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))
#define typeof_member(T, m) typeof(((T *)0)->m)

typedef _Bool bool;
enum { false = 0, true = 1 };

typedef signed char s8;
typedef unsigned char u8;
typedef short s16;
typedef unsigned short u16;
typedef int s32;
typedef unsigned int u32;
typedef long long s64;
typedef unsigned long long u64;
typedef s8 __s8;
typedef u8 __u8;
typedef s16 __s16;
typedef u16 __u16;
typedef s32 __s32;
typedef u32 __u32;
typedef s64 __s64;
typedef u64 __u64;
typedef u16 __be16;
typedef u32 __be32;
typedef u64 __be64;
typedef u16 __le16;
typedef u32 __le32;
typedef u64 __le64;
typedef u8 uint8_t;
typedef u16 uint16_t;
typedef u32 uint32_t;
typedef u64 uint64_t;
typedef s32 int32_t;
typedef s64 int64_t;
typedef __SIZE_TYPE__ size_t;
typedef long ssize_t;
typedef __UINTPTR_TYPE__ uintptr_t;
typedef long intptr_t;
typedef long long loff_t;
typedef unsigned short umode_t;
typedef u32 dev_t;
typedef int pid_t;
typedef unsigned int gfp_t;
typedef u64 phys_addr_t;
typedef u32 phandle;
typedef s64 time64_t;
typedef unsigned long irq_hw_number_t;
typedef unsigned long pgoff_t;
typedef unsigned int vm_fault_t;
typedef unsigned long vm_flags_t;
typedef __builtin_va_list va_list;
#define va_start(ap, last) __builtin_va_start(ap, last)
#define va_end(ap) __builtin_va_end(ap)
#define va_arg(ap, type) __builtin_va_arg(ap, type)
#define va_copy(d, s) __builtin_va_copy(d, s)

#define U8_MAX ((u8)~0U)
#define U16_MAX ((u16)~0U)
#define U32_MAX ((u32)~0U)
#define U64_MAX ((u64)~0ULL)
#define INT_MAX ((int)(~0U >> 1))
#define UINT_MAX (~0U)
#define LONG_MAX ((long)(~0UL >> 1))
#define ULONG_MAX (~0UL)

/* The kernel's doubly linked list types; list.h itself is the kernel's own (included at the end). */
struct list_head {
	struct list_head *next, *prev;
};
struct hlist_head {
	struct hlist_node *first;
};
struct hlist_node {
	struct hlist_node *next, **pprev;
};

#define _AC(x, y) x
#define _UL(x) (x##UL)
#define _ULL(x) (x##ULL)
#define UL(x) _UL(x)
#define ULL(x) _ULL(x)

/* ================================================================================================
 * Errors: the kernel's errno numbers (asm-generic/errno*.h values, which powerpc shares for these).
 */

#define EPERM 1
#define ENOENT 2
#define ESRCH 3
#define EINTR 4
#define EIO 5
#define ENXIO 6
#define E2BIG 7
#define EBADF 9
#define EAGAIN 11
#define ENOMEM 12
#define EACCES 13
#define EFAULT 14
#define EBUSY 16
#define EEXIST 17
#define ENODEV 19
#define ENOTDIR 20
#define EINVAL 22
#define ENOSPC 28
#define ERANGE 34
#define EOVERFLOW 75
#define ENOSYS 38
#define ENODATA 61
#define EOPNOTSUPP 95
#define ETIMEDOUT 110
#define ECANCELED 125
#define ENOTSUPP 524
#define MAX_ERRNO 4095

#define IS_ERR_VALUE(x) unlikely((unsigned long)(void *)(x) >= (unsigned long)-MAX_ERRNO)
static inline void *ERR_PTR(long error) { return (void *)error; }
static inline long PTR_ERR(const void *ptr) { return (long)ptr; }
static inline bool IS_ERR(const void *ptr) { return IS_ERR_VALUE((unsigned long)ptr); }
static inline bool IS_ERR_OR_NULL(const void *ptr) { return !ptr || IS_ERR(ptr); }

/* ================================================================================================
 * Printing. printk goes to the guest's console (stderr) with the kernel's %p extensions (%pOF).
 */

#define KERN_SOH "\001"
#define KERN_EMERG KERN_SOH "0"
#define KERN_ALERT KERN_SOH "1"
#define KERN_CRIT KERN_SOH "2"
#define KERN_ERR KERN_SOH "3"
#define KERN_WARNING KERN_SOH "4"
#define KERN_NOTICE KERN_SOH "5"
#define KERN_INFO KERN_SOH "6"
#define KERN_DEBUG KERN_SOH "7"
#define KERN_CONT KERN_SOH "c"

int printk(const char *fmt, ...) __printf(1, 2);
/* pr_fmt: each kernel file may define its own before its first #include; see kh/pr_fmt.h. */
#define pr_emerg(fmt, ...) printk(KERN_EMERG pr_fmt(fmt), ##__VA_ARGS__)
#define pr_alert(fmt, ...) printk(KERN_ALERT pr_fmt(fmt), ##__VA_ARGS__)
#define pr_crit(fmt, ...) printk(KERN_CRIT pr_fmt(fmt), ##__VA_ARGS__)
#define pr_err(fmt, ...) printk(KERN_ERR pr_fmt(fmt), ##__VA_ARGS__)
#define pr_warn(fmt, ...) printk(KERN_WARNING pr_fmt(fmt), ##__VA_ARGS__)
#define pr_notice(fmt, ...) printk(KERN_NOTICE pr_fmt(fmt), ##__VA_ARGS__)
#define pr_info(fmt, ...) printk(KERN_INFO pr_fmt(fmt), ##__VA_ARGS__)
#define pr_cont(fmt, ...) printk(KERN_CONT fmt, ##__VA_ARGS__)
/* Debug output is compiled in (so the formats are checked) and printed at level 7. */
#define pr_debug(fmt, ...) printk(KERN_DEBUG pr_fmt(fmt), ##__VA_ARGS__)
#define pr_devel(fmt, ...) pr_debug(fmt, ##__VA_ARGS__)
/* Rate limiting is not modelled: every message is printed. */
#define pr_err_ratelimited(fmt, ...) pr_err(fmt, ##__VA_ARGS__)
#define pr_warn_ratelimited(fmt, ...) pr_warn(fmt, ##__VA_ARGS__)
#define pr_info_ratelimited(fmt, ...) pr_info(fmt, ##__VA_ARGS__)
#define pr_notice_ratelimited(fmt, ...) pr_notice(fmt, ##__VA_ARGS__)
#define pr_debug_ratelimited(fmt, ...) pr_debug(fmt, ##__VA_ARGS__)
#define pr_warn_once(fmt, ...) pr_warn(fmt, ##__VA_ARGS__)

/* The kernel's sprintf family (with its %p extensions) under their own link names: the C library's are in
 * the same program and must stay the C library's. */
int kh_k_sprintf(char *buf, const char *fmt, ...) __printf(2, 3);
int kh_k_snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);
#define sprintf kh_k_sprintf
#define snprintf kh_k_snprintf
int scnprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);
int sysfs_emit(char *buf, const char *fmt, ...) __printf(2, 3);

/* A broken kernel invariant ends the guest with the location: a test must not run on past one. */
#define BUG() kh_panic("BUG at %s:%d (%s)", __FILE__, __LINE__, __func__)
#define BUG_ON(c) do { if (unlikely(c)) BUG(); } while (0)
int kh_warn(const char *cond, const char *file, int line, const char *func);
#define WARN_ON(c) ({ int __kh_c = !!(c); if (unlikely(__kh_c)) kh_warn(#c, __FILE__, __LINE__, __func__); unlikely(__kh_c); })
#define WARN_ON_ONCE(c) WARN_ON(c)
#define WARN(c, fmt, ...) ({ int __kh_c = !!(c); if (unlikely(__kh_c)) { pr_warn(fmt, ##__VA_ARGS__); kh_warn(#c, __FILE__, __LINE__, __func__); } unlikely(__kh_c); })
#define WARN_ONCE(c, fmt, ...) WARN(c, fmt, ##__VA_ARGS__)

/* ================================================================================================
 * Byte order (the guest runs little-endian; PAPR buffers are big-endian) and bits.
 */

#define cpu_to_be16(x) ((__be16)__builtin_bswap16((u16)(x)))
#define cpu_to_be32(x) ((__be32)__builtin_bswap32((u32)(x)))
#define cpu_to_be64(x) ((__be64)__builtin_bswap64((u64)(x)))
#define be16_to_cpu(x) ((u16)__builtin_bswap16((u16)(x)))
#define be32_to_cpu(x) ((u32)__builtin_bswap32((u32)(x)))
#define be64_to_cpu(x) ((u64)__builtin_bswap64((u64)(x)))
#define be32_to_cpup(p) be32_to_cpu(*(const __be32 *)(p))
#define cpu_to_le32(x) ((__le32)(u32)(x))
#define le32_to_cpu(x) ((u32)(x))

#define BIT(n) (1UL << (n))
#define BIT_ULL(n) (1ULL << (n))
/* PAPR numbers bits from the most significant end: bit 0 of a doubleword is 1 << 63. */
#define PPC_BIT(bit) (1ULL << (63 - (bit)))
#define PPC_BITMASK(bs, be) ((PPC_BIT(bs) - PPC_BIT(be)) | PPC_BIT(bs))
#define BITS_PER_LONG 64
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))

#define min(a, b) ({ typeof(a) __kh_a = (a); typeof(b) __kh_b = (b); __kh_a < __kh_b ? __kh_a : __kh_b; })
#define max(a, b) ({ typeof(a) __kh_a = (a); typeof(b) __kh_b = (b); __kh_a > __kh_b ? __kh_a : __kh_b; })
#define min_t(t, a, b) min((t)(a), (t)(b))
#define max_t(t, a, b) max((t)(a), (t)(b))
#define clamp(v, lo, hi) min(max(v, lo), hi)
#define clamp_t(t, v, lo, hi) clamp((t)(v), (t)(lo), (t)(hi))
#define abs(x) ({ typeof(x) __kh_x = (x); __kh_x < 0 ? -__kh_x : __kh_x; })

/* ================================================================================================
 * Atomics and ordering: GCC's __atomic builtins at sequential consistency. The guest runs on x86 (TSO),
 * so POWER's weaker orderings cannot show here; the jcstress module covers the Java port's orderings.
 */

#define READ_ONCE(x) (*(const volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, val) do { *(volatile typeof(x) *)&(x) = (val); } while (0)
#define smp_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define smp_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define smp_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#define mb() smp_mb()
#define rmb() smp_rmb()
#define wmb() smp_wmb()
#define smp_store_release(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define smp_load_acquire(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define smp_mb__before_atomic() smp_mb()
#define smp_mb__after_atomic() smp_mb()

typedef struct {
	int counter;
} atomic_t;
typedef struct {
	s64 counter;
} atomic64_t;
#define ATOMIC_INIT(i) { (i) }
static inline int atomic_read(const atomic_t *v) { return __atomic_load_n(&v->counter, __ATOMIC_SEQ_CST); }
static inline void atomic_set(atomic_t *v, int i) { __atomic_store_n(&v->counter, i, __ATOMIC_SEQ_CST); }
static inline void atomic_inc(atomic_t *v) { __atomic_add_fetch(&v->counter, 1, __ATOMIC_SEQ_CST); }
static inline void atomic_dec(atomic_t *v) { __atomic_sub_fetch(&v->counter, 1, __ATOMIC_SEQ_CST); }
static inline void atomic_add(int i, atomic_t *v) { __atomic_add_fetch(&v->counter, i, __ATOMIC_SEQ_CST); }
static inline void atomic_sub(int i, atomic_t *v) { __atomic_sub_fetch(&v->counter, i, __ATOMIC_SEQ_CST); }
static inline int atomic_inc_return(atomic_t *v) { return __atomic_add_fetch(&v->counter, 1, __ATOMIC_SEQ_CST); }
static inline int atomic_dec_return(atomic_t *v) { return __atomic_sub_fetch(&v->counter, 1, __ATOMIC_SEQ_CST); }
static inline int atomic_add_return(int i, atomic_t *v) { return __atomic_add_fetch(&v->counter, i, __ATOMIC_SEQ_CST); }
static inline bool atomic_dec_and_test(atomic_t *v) { return atomic_dec_return(v) == 0; }

typedef struct {
	atomic_t refs;
} refcount_t;
#define REFCOUNT_INIT(n) { .refs = ATOMIC_INIT(n) }
static inline void refcount_set(refcount_t *r, int n) { atomic_set(&r->refs, n); }
static inline void refcount_inc(refcount_t *r) { atomic_inc(&r->refs); }
static inline bool refcount_dec_and_test(refcount_t *r) { return atomic_dec_and_test(&r->refs); }
static inline int refcount_read(const refcount_t *r) { return atomic_read(&r->refs); }

struct kref {
	refcount_t refcount;
};
static inline void kref_init(struct kref *k) { refcount_set(&k->refcount, 1); }
static inline void kref_get(struct kref *k) { refcount_inc(&k->refcount); }
static inline int kref_put(struct kref *k, void (*release)(struct kref *))
{
	if (refcount_dec_and_test(&k->refcount)) {
		release(k);
		return 1;
	}
	return 0;
}

/* ================================================================================================
 * Memory and strings. Allocation never sleeps here; GFP flags are accepted and ignored.
 */

#define GFP_KERNEL 0u
#define GFP_ATOMIC 1u
#define GFP_NOWAIT 2u
#define __GFP_ZERO 0x100u

static inline void *kmalloc(size_t size, gfp_t flags) { return kh_alloc(size, (flags & __GFP_ZERO) != 0); }
static inline void *kzalloc(size_t size, gfp_t flags) { (void)flags; return kh_alloc(size, 1); }
static inline void *kcalloc(size_t n, size_t size, gfp_t flags) { (void)flags; return kh_alloc(n * size, 1); }
static inline void *kmalloc_array(size_t n, size_t size, gfp_t flags) { (void)flags; return kh_alloc(n * size, 0); }
static inline void kfree(const void *p) { kh_free(p); }
#define kvfree(p) kfree(p)
#define kfree_const(p) kfree(p)

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *s, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
char *strcpy(char *dst, const char *src);
char *strncpy(char *dst, const char *src, size_t n);
ssize_t strscpy(char *dst, const char *src, size_t size);
char *kstrdup(const char *s, gfp_t gfp);
const char *kstrdup_const(const char *s, gfp_t gfp);
void *kmemdup(const void *src, size_t len, gfp_t gfp);
char *kasprintf(gfp_t gfp, const char *fmt, ...) __printf(2, 3);
char *kvasprintf(gfp_t gfp, const char *fmt, va_list ap);
int kstrtou64(const char *s, unsigned int base, u64 *res);
int kstrtou32(const char *s, unsigned int base, u32 *res);
int kstrtou16(const char *s, unsigned int base, u16 *res);
int kstrtoint(const char *s, unsigned int base, int *res);
#define kstrtoul(s, base, res) kstrtou64((s), (base), (u64 *)(res))

/* The guest's "physical" addresses are its host addresses: PAPR buffers travel by value on the wire. */
#define virt_to_phys(p) ((phys_addr_t)(uintptr_t)(p))
#define __pa(p) ((unsigned long)(uintptr_t)(p))
#define __va(pa) ((void *)(uintptr_t)(pa))
#define PAGE_SHIFT 16
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define SZ_4K 0x1000

/* User copies: user memory is ordinary memory here. Return the bytes not copied, as the kernel does. */
static inline unsigned long copy_to_user(void __user *to, const void *from, unsigned long n)
{
	if (!to)
		return n;
	memcpy((void *)to, from, n);
	return 0;
}
static inline unsigned long copy_from_user(void *to, const void __user *from, unsigned long n)
{
	if (!from)
		return n;
	memcpy(to, (const void *)from, n);
	return 0;
}
#define get_user(x, ptr) ({ int __kh_r = (ptr) ? 0 : -EFAULT; if ((ptr)) (x) = *(ptr); __kh_r; })
#define put_user(x, ptr) ({ int __kh_r = (ptr) ? 0 : -EFAULT; if ((ptr)) *(ptr) = (x); __kh_r; })

/* ================================================================================================
 * Time and sleeping. Every sleep gives the vCPU back; the site names the sleeping kernel function so the
 * runtime can report the sleeps the Java port reports as tracepoints (e.g. SUSPEND waiting for opens).
 */

#define MSEC_PER_SEC 1000L
#define USEC_PER_MSEC 1000L
#define USEC_PER_SEC 1000000L
#define NSEC_PER_USEC 1000L
#define NSEC_PER_MSEC 1000000L
#define NSEC_PER_SEC 1000000000L
#define HZ 100
#define msleep(ms) kh_msleep((ms), __func__)
#define ssleep(s) kh_msleep((s) * 1000UL, __func__)
#define usleep_range(lo, hi) kh_usleep((lo), (hi), __func__)
#define udelay(us) kh_usleep((us), (us), __func__)
#define mdelay(ms) kh_msleep((ms), __func__)
#define cond_resched() kh_yield()
#define schedule() kh_yield()
#define might_sleep() kh_might_resched(__func__)
unsigned long msleep_interruptible(unsigned int ms);
static inline unsigned long msecs_to_jiffies(unsigned int ms) { return ms / (1000 / HZ); }
extern volatile unsigned long jiffies;
struct timespec64 {
	time64_t tv_sec;
	long tv_nsec;
};
static inline time64_t ktime_get_real_seconds(void) { return (time64_t)(kh_now_ns() / NSEC_PER_SEC); }

/* ================================================================================================
 * Locks. struct mutex is a sleeping lock whose name (the kernel's lock class name, e.g.
 * vas_pseries_mutex) names its contention tracepoint; spinlocks keep their vCPU while they wait.
 */

struct lock_class_key {
	int unused;
};

struct mutex {
	const char *name;
	struct kh_lock_area area;
};
#define __MUTEX_INITIALIZER(lockname) { .name = #lockname }
#define DEFINE_MUTEX(lockname) struct mutex lockname = __MUTEX_INITIALIZER(lockname)
void kh_mutex_init_named(struct mutex *m, const char *expr);
#define mutex_init(m) kh_mutex_init_named((m), #m)
#define mutex_destroy(m) do { } while (0)
#define mutex_lock(m) kh_mutex_lock(&(m)->area, (m)->name, __func__)
#define mutex_lock_interruptible(m) (mutex_lock(m), 0)
#define mutex_trylock(m) kh_mutex_trylock(&(m)->area)
#define mutex_unlock(m) kh_mutex_unlock(&(m)->area, (m)->name)
#define mutex_is_locked(m) kh_mutex_is_locked(&(m)->area)
#define lockdep_assert_held(m) do { } while (0)

typedef struct {
	struct kh_lock_area area;
} raw_spinlock_t;
typedef struct {
	struct kh_lock_area area;
} spinlock_t;
typedef struct {
	struct kh_lock_area area;
} arch_spinlock_t;
#define __RAW_SPIN_LOCK_UNLOCKED(n) { }
#define __SPIN_LOCK_UNLOCKED(n) { }
#define DEFINE_SPINLOCK(n) spinlock_t n = __SPIN_LOCK_UNLOCKED(n)
#define DEFINE_RAW_SPINLOCK(n) raw_spinlock_t n = __RAW_SPIN_LOCK_UNLOCKED(n)
#define spin_lock_init(l) memset((l), 0, sizeof(*(l)))
#define raw_spin_lock_init(l) memset((l), 0, sizeof(*(l)))
#define spin_lock(l) kh_spin_lock(&(l)->area)
#define spin_unlock(l) kh_spin_unlock(&(l)->area)
#define spin_trylock(l) kh_spin_trylock(&(l)->area)
#define raw_spin_lock(l) kh_spin_lock(&(l)->area)
#define raw_spin_unlock(l) kh_spin_unlock(&(l)->area)
/* The irqsave forms also mask interrupts (MSR[EE]) for as long as the lock is held. */
#define spin_lock_irqsave(l, flags) do { local_irq_save(flags); kh_spin_lock(&(l)->area); } while (0)
#define spin_unlock_irqrestore(l, flags) do { kh_spin_unlock(&(l)->area); local_irq_restore(flags); } while (0)
#define raw_spin_lock_irqsave(l, flags) spin_lock_irqsave(l, flags)
#define raw_spin_unlock_irqrestore(l, flags) spin_unlock_irqrestore(l, flags)
#define spin_lock_irq(l) do { local_irq_disable(); kh_spin_lock(&(l)->area); } while (0)
#define spin_unlock_irq(l) do { kh_spin_unlock(&(l)->area); local_irq_enable(); } while (0)

/* A reader-writer semaphore, used as the mm's mmap_lock and the CPU-hotplug lock. */
struct rw_semaphore {
	const char *name;
	struct kh_lock_area area;
};
void kh_rwsem_down_read(struct rw_semaphore *s, const char *site);
void kh_rwsem_up_read(struct rw_semaphore *s);
void kh_rwsem_down_write(struct rw_semaphore *s, const char *site);
void kh_rwsem_up_write(struct rw_semaphore *s);
#define down_read(s) kh_rwsem_down_read((s), __func__)
#define up_read(s) kh_rwsem_up_read(s)
#define down_write(s) kh_rwsem_down_write((s), __func__)
#define up_write(s) kh_rwsem_up_write(s)

/* RCU: readers never block writers here, and nothing is freed under a reader: no-ops. */
#define rcu_read_lock() do { } while (0)
#define rcu_read_unlock() do { } while (0)
#define synchronize_rcu() do { } while (0)
#define rcu_cpu_stall_reset() do { } while (0)

/* The CPU-hotplug lock: held for reading by the migration's device-tree update. */
void cpus_read_lock(void);
void cpus_read_unlock(void);
#define get_online_cpus() cpus_read_lock()
#define put_online_cpus() cpus_read_unlock()
void lock_device_hotplug(void);
void unlock_device_hotplug(void);

/* Wait queues and completions: waiters give their vCPU back. */
struct completion {
	unsigned int done;
	struct kh_waitq q;
};
#define DECLARE_COMPLETION_ONSTACK(c) struct completion c = { 0 }
static inline void init_completion(struct completion *c) { memset(c, 0, sizeof(*c)); }
void complete(struct completion *c);
void complete_all(struct completion *c);
void wait_for_completion(struct completion *c);

/* ================================================================================================
 * CPUs, interrupts and stop_machine. smp_processor_id() is the vCPU the task holds; a vCPU's hardware id
 * is its number, which is what the daemon calls it (H_PROD targets, H_HOME_NODE_ASSOCIATIVITY).
 */

#define NR_CPUS 64
#define smp_processor_id() kh_cpu_current()
#define raw_smp_processor_id() kh_cpu_current()
#define hard_smp_processor_id() kh_cpu_current()
#define get_hard_smp_processor_id(cpu) ((int)(cpu))
#define num_online_cpus() ((unsigned int)kh_cpu_online_count())
#define nr_cpu_ids ((unsigned int)kh_cpu_count())
#define cpu_online(cpu) kh_cpu_online((int)(cpu))
#define get_cpu() ({ preempt_disable(); smp_processor_id(); })
#define put_cpu() preempt_enable()
#define preempt_disable() barrier()
#define preempt_enable() barrier()

struct cpumask {
	unsigned long bits[NR_CPUS / BITS_PER_LONG];
};
typedef struct cpumask cpumask_t;
typedef struct cpumask *cpumask_var_t;
/* The online mask is kept by the runtime; this is a snapshot refreshed on each use. */
const struct cpumask *kh_cpu_online_mask(void);
#define cpu_online_mask kh_cpu_online_mask()
#define cpu_possible_mask kh_cpu_online_mask()
#define cpu_present_mask kh_cpu_online_mask()
static inline bool cpumask_test_cpu(int cpu, const struct cpumask *m)
{
	return cpu >= 0 && cpu < NR_CPUS && (m->bits[cpu / BITS_PER_LONG] >> (cpu % BITS_PER_LONG)) & 1;
}
/*
 * The iteration index may be unsigned (mobility.c's prod_others uses unsigned int): the loop ends when the
 * runtime answers an index at or past the CPU count, never by a signed comparison. A prototype that tested
 * "cpu >= 0" on an unsigned index never ended and flooded the daemon with H_PROD (runtime test
 * for_each_online_cpu_unsigned).
 */
#define for_each_online_cpu(cpu) \
	for ((cpu) = kh_cpu_next_online(-1); (int)(cpu) < kh_cpu_count(); (cpu) = kh_cpu_next_online((int)(cpu)))
#define for_each_possible_cpu(cpu) for ((cpu) = 0; (int)(cpu) < kh_cpu_count(); (cpu)++)
#define for_each_present_cpu(cpu) for_each_possible_cpu(cpu)

/* MSR[EE] of the task's vCPU. */
#define local_irq_disable() kh_irqs_set_disabled(1)
#define local_irq_enable() kh_irqs_set_disabled(0)
#define local_irq_save(flags) do { (flags) = (unsigned long)kh_irqs_disabled(); kh_irqs_set_disabled(1); } while (0)
#define local_irq_restore(flags) kh_irqs_set_disabled((int)(flags))
#define irqs_disabled() kh_irqs_disabled()
#define hard_irq_disable() kh_irqs_set_disabled(1)

/* stop_machine runs fn on every CPU of the partition (the mask must be the online mask). */
int stop_machine(int (*fn)(void *), void *data, const struct cpumask *cpus);

/* Watchdogs are not modelled. */
#define touch_nmi_watchdog() do { } while (0)
#define touch_softlockup_watchdog() do { } while (0)
#define watchdog_nmi_set_timeout_pct(p) do { (void)(p); } while (0)
#define watchdog_hardlockup_set_timeout_pct(p) do { (void)(p); } while (0)

/* ================================================================================================
 * Tasks, pids and mm. Every guest thread has a task_struct; a user task also has an mm (its process).
 * current->thread.regs models the register state of a faulting paste for vas-api.c's do_fail_paste().
 */

#define TASK_COMM_LEN 16
#define PF_EXITING 0x00000004
#define PF_KTHREAD 0x00200000

struct pt_regs {
	unsigned long nip;
	unsigned long msr;
	unsigned long ccr;
	unsigned long gpr[32];
};
#define MSR_PR_BIT 14
#define user_mode(regs) ((((regs)->msr) >> MSR_PR_BIT) & 1)
static inline void regs_add_return_ip(struct pt_regs *regs, long off) { regs->nip += off; }

struct thread_struct {
	struct pt_regs *regs;
};

struct mm_context {
	atomic_t vas_windows;
	unsigned long id;   /* the process's PID register value (radix: the mm's context id) */
};
typedef struct mm_context mm_context_t;

struct mm_struct {
	atomic_t mm_users;
	atomic_t mm_count;
	struct rw_semaphore mmap_lock;
	mm_context_t context;
	struct vm_area_struct *vmas;   /* the process's mappings of the nx-gzip device */
};

struct pid;
struct task_struct {
	pid_t pid;
	pid_t tgid;
	char comm[TASK_COMM_LEN];
	unsigned int flags;
	struct mm_struct *mm;
	struct mm_struct *active_mm;
	struct thread_struct thread;
	struct pid *thread_pid;
	refcount_t usage;
	struct kh_task *host;
};

struct task_struct *kh_get_current(void);
#define current kh_get_current()
#define get_current() kh_get_current()

enum pid_type { PIDTYPE_PID, PIDTYPE_TGID, PIDTYPE_PGID, PIDTYPE_SID, PIDTYPE_MAX };
struct pid {
	refcount_t count;
	int nr;
	struct task_struct *task;   /* NULL once the task has exited */
};
struct pid *get_task_pid(struct task_struct *task, enum pid_type type);
struct pid *find_get_pid(int nr);
void put_pid(struct pid *pid);
struct task_struct *get_pid_task(struct pid *pid, enum pid_type type);
void put_task_struct(struct task_struct *t);
pid_t pid_vnr(struct pid *pid);
static inline pid_t task_tgid_vnr(struct task_struct *t) { return t->tgid; }
static inline pid_t task_pid_nr(struct task_struct *t) { return t->pid; }

struct mm_struct *get_task_mm(struct task_struct *task);
void mmput(struct mm_struct *mm);
static inline void mmgrab(struct mm_struct *mm) { atomic_inc(&mm->mm_count); }
void mmdrop(struct mm_struct *mm);
static inline void mmap_write_lock(struct mm_struct *mm) { down_write(&mm->mmap_lock); }
static inline void mmap_write_unlock(struct mm_struct *mm) { up_write(&mm->mmap_lock); }
static inline void mmap_read_lock(struct mm_struct *mm) { down_read(&mm->mmap_lock); }
static inline void mmap_read_unlock(struct mm_struct *mm) { up_read(&mm->mmap_lock); }
/* A kernel thread borrowing a user mm (vas_update_csb): nothing to switch here. */
static inline void kthread_use_mm(struct mm_struct *mm) { (void)mm; }
static inline void kthread_unuse_mm(struct mm_struct *mm) { (void)mm; }
static inline void mm_context_add_vas_window(struct mm_struct *mm) { atomic_inc(&mm->context.vas_windows); }
static inline void mm_context_remove_vas_window(struct mm_struct *mm) { atomic_dec(&mm->context.vas_windows); }

/* SPRN_PID: the running process's PID register, i.e. its mm's context id. */
#define SPRN_PID 0x030
unsigned long kh_mfspr(int spr);
#define mfspr(spr) kh_mfspr(spr)

/* Signals: delivery to a user task is recorded (the task's next command sees it), not acted on. */
#define SIGSEGV 11
#define SEGV_MAPERR 1
struct kernel_siginfo {
	int si_signo;
	int si_errno;
	int si_code;
	void __user *si_addr;
};
static inline void clear_siginfo(struct kernel_siginfo *info) { memset(info, 0, sizeof(*info)); }
int kill_pid_info(int sig, struct kernel_siginfo *info, struct pid *pid);

/* ================================================================================================
 * IRQ domains: a table of mappings and handlers. The daemon delivers no NX fault interrupts, so the
 * handlers are registered and freed as the kernel does but never run unless a test raises one.
 */

typedef enum irqreturn { IRQ_NONE = 0, IRQ_HANDLED = 1, IRQ_WAKE_THREAD = 2 } irqreturn_t;
typedef irqreturn_t (*irq_handler_t)(int irq, void *dev);
struct irq_domain;
unsigned int irq_create_mapping(struct irq_domain *domain, irq_hw_number_t hwirq);
void irq_dispose_mapping(unsigned int virq);
int request_threaded_irq(unsigned int irq, irq_handler_t handler, irq_handler_t thread_fn,
			 unsigned long flags, const char *name, void *dev);
const void *free_irq(unsigned int irq, void *dev);
#define IRQF_ONESHOT 0x00002000

/* ================================================================================================
 * Device tree: nodes and properties built from Welcome.device_tree, of_* lookups, and the reconfig
 * notifier chain (attach, detach, property add/update/remove) that vas.c's DLPAR notifier listens on.
 */

struct fwnode_handle {
	int unused;
};
struct property {
	char *name;
	int length;
	void *value;
	struct property *next;
};
struct device_node {
	const char *name;
	phandle phandle;
	const char *full_name;
	struct fwnode_handle fwnode;
	struct property *properties;
	struct property *deadprops;
	struct device_node *parent;
	struct device_node *child;
	struct device_node *sibling;
	struct kref kref;
	unsigned long _flags;
	void *data;
	unsigned int drc_index;   /* the runtime's: the node's DRC index when firmware named one */
	bool attached;            /* the runtime's: in the live tree */
};
struct of_reconfig_data {
	struct device_node *dn;
	struct property *prop;
	struct property *old_prop;
};
#define OF_RECONFIG_ATTACH_NODE 0x0001
#define OF_RECONFIG_DETACH_NODE 0x0002
#define OF_RECONFIG_ADD_PROPERTY 0x0003
#define OF_RECONFIG_REMOVE_PROPERTY 0x0004
#define OF_RECONFIG_UPDATE_PROPERTY 0x0005

struct notifier_block;
typedef int (*notifier_fn_t)(struct notifier_block *nb, unsigned long action, void *data);
struct notifier_block {
	notifier_fn_t notifier_call;
	struct notifier_block *next;
	int priority;
};
#define NOTIFY_DONE 0x0000
#define NOTIFY_OK 0x0001
#define NOTIFY_STOP_MASK 0x8000
#define NOTIFY_BAD (NOTIFY_STOP_MASK | 0x0002)
static inline int notifier_to_errno(int ret)
{
	ret &= ~NOTIFY_STOP_MASK;
	return ret > NOTIFY_OK ? NOTIFY_OK - ret : 0;
}

extern struct device_node *of_root;
int of_reconfig_notifier_register(struct notifier_block *nb);
int of_reconfig_notifier_unregister(struct notifier_block *nb);
struct device_node *of_find_node_by_path(const char *path);
struct device_node *of_find_node_by_phandle(phandle handle);
struct device_node *of_get_parent(const struct device_node *node);
struct device_node *of_get_next_child(const struct device_node *node, struct device_node *prev);
struct device_node *of_node_get(struct device_node *node);
void of_node_put(struct device_node *node);
struct property *of_find_property(const struct device_node *np, const char *name, int *lenp);
const void *of_get_property(const struct device_node *node, const char *name, int *lenp);
int of_property_read_u32(const struct device_node *np, const char *name, u32 *out);
bool of_node_is_type(const struct device_node *np, const char *type);
int of_update_property(struct device_node *np, struct property *newprop);
int of_remove_property(struct device_node *np, struct property *prop);
int of_add_property(struct device_node *np, struct property *prop);
int of_attach_node(struct device_node *np);
int of_detach_node(struct device_node *np);
static inline const char *of_node_full_name(const struct device_node *np) { return np ? np->full_name : "<no-node>"; }
#define for_each_child_of_node(parent, child) \
	for (child = of_get_next_child(parent, NULL); child != NULL; child = of_get_next_child(parent, child))

/* ================================================================================================
 * sysfs, devices and files: kobjects with attributes in a registry (so a write of a sysfs path reaches
 * the kernel's store function), the classes, char devices and file operations of vas-api.c, and the
 * VMAs its mmap records.
 */

struct attribute {
	const char *name;
	umode_t mode;
};
struct attribute_group {
	const char *name;
	struct attribute **attrs;
};
struct kobject;
struct sysfs_ops {
	ssize_t (*show)(struct kobject *kobj, struct attribute *attr, char *buf);
	ssize_t (*store)(struct kobject *kobj, struct attribute *attr, const char *buf, size_t count);
};
struct kobj_type {
	void (*release)(struct kobject *kobj);
	const struct sysfs_ops *sysfs_ops;
	const struct attribute_group **default_groups;
};
struct kobject {
	const char *name;
	struct kobject *parent;
	const struct kobj_type *ktype;
	struct kref kref;
	struct attribute **files;   /* the runtime's: sysfs_create_file()'d attributes */
	int nfiles;
	bool registered;
};
/* kobj_attribute and class_attribute have the same layout, so a class attribute can sit on a plain kobject,
 * as mobility.c's migration file does (the kernel relies on the same pun). */
struct kobj_attribute {
	struct attribute attr;
	ssize_t (*show)(struct kobject *kobj, struct kobj_attribute *attr, char *buf);
	ssize_t (*store)(struct kobject *kobj, struct kobj_attribute *attr, const char *buf, size_t count);
};
/*
 * The show/store callbacks of a class attribute took non-const class and attribute pointers before 6.4 and
 * const ones after: they are held untyped here, so both kernels' functions fit, and the sysfs registry
 * calls them as (class, attribute, buffer, count), which is the same call either way.
 */
struct class;
struct class_attribute {
	struct attribute attr;
	void *show;
	void *store;
};
typedef ssize_t (*kh_class_show_t)(const struct class *class, const struct class_attribute *attr, char *buf);
typedef ssize_t (*kh_class_store_t)(const struct class *class, const struct class_attribute *attr,
				    const char *buf, size_t count);
struct class_attribute_string {
	struct class_attribute attr;
	char *str;
};
ssize_t kh_show_class_attr_string(const struct class *class, const struct class_attribute *attr, char *buf);
#define __ATTR(_name, _mode, _show, _store) \
	{ .attr = { .name = __stringify(_name), .mode = (_mode) }, .show = (_show), .store = (_store) }
#define __ATTR_RO(_name) __ATTR(_name, 0444, _name##_show, NULL)
#define __ATTR_WO(_name) __ATTR(_name, 0200, NULL, _name##_store)
#define __ATTR_RW(_name) __ATTR(_name, 0644, _name##_show, _name##_store)
#define CLASS_ATTR_WO(_name) struct class_attribute class_attr_##_name = __ATTR_WO(_name)
#define CLASS_ATTR_RO(_name) struct class_attribute class_attr_##_name = __ATTR_RO(_name)
#define CLASS_ATTR_STRING(_name, _mode, _str) \
	struct class_attribute_string class_attr_##_name = \
		{ __ATTR(_name, _mode, kh_show_class_attr_string, NULL), _str }
#define ATTRIBUTE_GROUPS(_name) \
	static const struct attribute_group _name##_group = { .attrs = _name##_attrs }; \
	static const struct attribute_group *_name##_groups[] = { &_name##_group, NULL }

extern struct kobject *kernel_kobj;
void kobject_init(struct kobject *kobj, const struct kobj_type *ktype);
int kobject_add(struct kobject *kobj, struct kobject *parent, const char *fmt, ...) __printf(3, 4);
int kobject_init_and_add(struct kobject *kobj, const struct kobj_type *ktype, struct kobject *parent,
			 const char *fmt, ...) __printf(4, 5);
struct kobject *kobject_create_and_add(const char *name, struct kobject *parent);
void kobject_put(struct kobject *kobj);
struct kobject *kobject_get(struct kobject *kobj);
void kobject_del(struct kobject *kobj);
int sysfs_create_file(struct kobject *kobj, const struct attribute *attr);
int sysfs_create_group(struct kobject *kobj, const struct attribute_group *grp);

struct device;
struct file_operations;
/* devnode's device pointer became const in 6.2; untyped for the same reason as class_attribute's callbacks. */
struct class {
	const char *name;
	void *devnode;
};
typedef char *(*kh_devnode_t)(const struct device *dev, umode_t *mode);
struct device {
	struct kobject kobj;
	const struct class *class;
	dev_t devt;
	void *driver_data;
	const char *init_name;
};
static inline const char *dev_name(const struct device *dev) { return dev->kobj.name; }
/* class_create() lost its module argument in 6.4; both forms resolve here. */
struct class *kh_class_create(const char *name);
#define __KH_CLASS_CREATE_1(name) kh_class_create(name)
#define __KH_CLASS_CREATE_2(owner, name) kh_class_create(name)
#define __KH_CLASS_PICK(_1, _2, fn, ...) fn
#define class_create(...) __KH_CLASS_PICK(__VA_ARGS__, __KH_CLASS_CREATE_2, __KH_CLASS_CREATE_1)(__VA_ARGS__)
void class_destroy(const struct class *cls);
struct device *device_create(const struct class *cls, struct device *parent, dev_t devt, void *drvdata,
			     const char *fmt, ...) __printf(5, 6);
void device_destroy(const struct class *cls, dev_t devt);

#define MINORBITS 20
#define MINORMASK ((1U << MINORBITS) - 1)
#define MAJOR(dev) ((unsigned int)((dev) >> MINORBITS))
#define MINOR(dev) ((unsigned int)((dev) & MINORMASK))
#define MKDEV(ma, mi) (((ma) << MINORBITS) | (mi))
int alloc_chrdev_region(dev_t *dev, unsigned int baseminor, unsigned int count, const char *name);
void unregister_chrdev_region(dev_t from, unsigned int count);

struct module;
#define THIS_MODULE ((struct module *)0)

struct inode;
struct cdev {
	struct kobject kobj;
	struct module *owner;
	const struct file_operations *ops;
	dev_t dev;
	unsigned int count;
};
void cdev_init(struct cdev *cdev, const struct file_operations *fops);
int cdev_add(struct cdev *cdev, dev_t dev, unsigned int count);
void cdev_del(struct cdev *cdev);

struct inode {
	dev_t i_rdev;
	struct cdev *i_cdev;
};
struct file {
	void *private_data;
	struct inode *f_inode;
	const struct file_operations *f_op;
};
typedef struct {
	unsigned long pgprot;
} pgprot_t;
#define pgprot_val(x) ((x).pgprot)
#define __pgprot(x) ((pgprot_t) { (x) })
#define pgprot_cached(p) (p)
#define pgprot_noncached(p) (p)
#define _PAGE_DIRTY 0x80UL
#define VM_IO 0x00004000UL
#define VM_PFNMAP 0x00000400UL
#define VM_DONTEXPAND 0x00040000UL
#define VM_DONTDUMP 0x04000000UL

struct vm_operations_struct;
struct vm_area_struct {
	unsigned long vm_start;
	unsigned long vm_end;
	unsigned long vm_pgoff;
	vm_flags_t vm_flags;
	pgprot_t vm_page_prot;
	struct file *vm_file;
	const struct vm_operations_struct *vm_ops;
	struct mm_struct *vm_mm;
	void *vm_private_data;
	/* the runtime's page table for this one-page mapping: the pfn installed, or 0 when none */
	unsigned long kh_pfn;
	struct vm_area_struct *kh_next;
};
static inline void vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags) { vma->vm_flags |= flags; }
struct vm_fault {
	struct vm_area_struct *vma;
	unsigned long address;
	unsigned int flags;
	pgoff_t pgoff;
};
struct vm_operations_struct {
	void (*open)(struct vm_area_struct *vma);
	void (*close)(struct vm_area_struct *vma);
	vm_fault_t (*fault)(struct vm_fault *vmf);
};
#define VM_FAULT_OOM 0x000001
#define VM_FAULT_SIGBUS 0x000002
#define VM_FAULT_NOPAGE 0x000100
int remap_pfn_range(struct vm_area_struct *vma, unsigned long addr, unsigned long pfn, unsigned long size,
		    pgprot_t prot);
vm_fault_t vmf_insert_pfn(struct vm_area_struct *vma, unsigned long addr, unsigned long pfn);
void zap_vma_pages(struct vm_area_struct *vma);
void zap_page_range(struct vm_area_struct *vma, unsigned long address, unsigned long size);

struct file_operations {
	struct module *owner;
	int (*open)(struct inode *inode, struct file *file);
	int (*release)(struct inode *inode, struct file *file);
	int (*mmap)(struct file *file, struct vm_area_struct *vma);
	long (*unlocked_ioctl)(struct file *file, unsigned int cmd, unsigned long arg);
	long (*compat_ioctl)(struct file *file, unsigned int cmd, unsigned long arg);
	ssize_t (*read)(struct file *file, char __user *buf, size_t len, loff_t *off);
	ssize_t (*write)(struct file *file, const char __user *buf, size_t len, loff_t *off);
};

#define MISC_DYNAMIC_MINOR 255
struct miscdevice {
	int minor;
	const char *name;
	const struct file_operations *fops;
	struct device *this_device;
	const char *nodename;
	umode_t mode;
};
int misc_register(struct miscdevice *misc);
void misc_deregister(struct miscdevice *misc);

struct dentry;
struct seq_file;

/* ================================================================================================
 * RTAS and firmware. rtas_call() finds the service by its token in /rtas, serializes on rtas_lock as the
 * kernel does (one RTAS call in flight per partition) and passes the work area by value.
 */

#define RTAS_UNKNOWN_SERVICE (-1)
#define FW_FEATURE_LPAR 0x0000000000400000ULL
bool kh_firmware_has_feature(u64 feature);
#define firmware_has_feature(f) kh_firmware_has_feature(f)
/* The guest runs a radix MMU (user-space NX on PowerVM requires it). */
#define radix_enabled() true
#define early_radix_enabled() true
bool is_shared_processor(void);
#define machine_is(x) (1)

/* Not modelled: SLB sizing (hash MMU only), cacheinfo, security flavours, hv-24x7. */
#define SLB_MIN_SIZE 32
#define slb_set_size(size) do { (void)(size); } while (0)
void cacheinfo_teardown(void);
void cacheinfo_rebuild(void);
void pseries_setup_security_mitigations(void);

/* ================================================================================================
 * Initcalls and modules: machine_device_initcall(pseries, fn) lands in a section the runtime walks at boot
 * in link order, as the kernel's do_initcalls() does.
 */

typedef int (*kh_initcall_t)(void);
#define __KH_INITCALL(fn) \
	static kh_initcall_t __KH_CONCAT(__kh_initcall_, fn) __used __section("kh_initcalls") = fn
#define machine_device_initcall(mach, fn) __KH_INITCALL(fn)
#define machine_arch_initcall(mach, fn) __KH_INITCALL(fn)
#define device_initcall(fn) __KH_INITCALL(fn)
#define arch_initcall(fn) __KH_INITCALL(fn)
#define subsys_initcall(fn) __KH_INITCALL(fn)
#define late_initcall(fn) __KH_INITCALL(fn)
#define module_init(fn) __KH_INITCALL(fn)
#define module_exit(fn)
#define EXPORT_SYMBOL(sym) extern typeof(sym) sym
#define EXPORT_SYMBOL_GPL(sym) extern typeof(sym) sym
#define MODULE_LICENSE(x)
#define MODULE_AUTHOR(x)
#define MODULE_DESCRIPTION(x)

/* ================================================================================================
 * Odds and ends.
 */

#define __init_or_module
#define PTR_ALIGN(p, a) ((typeof(p))(((uintptr_t)(p) + (a) - 1) & ~((uintptr_t)(a) - 1)))
#define rcu_dereference(p) (p)

/* Types the kernel headers name in prototypes of things the harness never calls. */
struct ctl_table;
struct pci_controller;
struct pci_dev;
struct pci_host_bridge;
struct iommu_group;
struct pseries_hp_errorlog;

/* The kernel's list implementation, unmodified (it needs only what is above). */
#include <linux/list.h>

#endif /* KH_PRELUDE_H */
