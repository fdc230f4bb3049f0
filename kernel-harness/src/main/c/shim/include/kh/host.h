/*
 * The boundary between the two halves of the C guest.
 *
 * Kernel side: Linux's own files and our kernel-side runtime, compiled with -nostdinc against the shim
 * headers and the kernel's headers. Host side: the machine they run on (tasks as pthreads, vCPUs, locks,
 * sleeps, memory, the console, the wire client), compiled against glibc. Neither side may include the
 * other's headers (glibc's headers reach <linux/...> and <asm/...>, which would find the kernel's), so this
 * file is the only one both include, and it uses nothing but C's own types.
 *
 * Every function here is implemented by the host side unless it says "kernel side".
 */
#ifndef KH_HOST_H
#define KH_HOST_H

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------------
 * Tasks and vCPUs.
 *
 * A guest task is a pthread. It runs kernel code only while it holds a vCPU: it takes one when it starts
 * or wakes up, keeps it through hcalls and RTAS calls, and gives it back whenever it sleeps (msleep, a
 * contended mutex, a wait). smp_processor_id() is the vCPU it holds.
 */

#define KH_TASK_COMM_LEN 16

struct kh_task;

/* The calling thread's task; a thread that is not a guest task gets NULL. */
struct kh_task *kh_task_self(void);
const char *kh_task_comm(const struct kh_task *t);
int kh_task_pid(const struct kh_task *t);
/* A per-task slot for the kernel side's task_struct. */
void **kh_task_kernel_slot(struct kh_task *t);

typedef int (*kh_task_fn)(void *arg);

/* Starts a guest task named comm running fn(arg) on any free online vCPU (or on vCPU pin if pin >= 0).
 * The task holds that vCPU when fn starts and gives it back when fn returns. */
struct kh_task *kh_task_start(const char *comm, int pin, kh_task_fn fn, void *arg);
/* Waits for a started task to end; returns fn's result. Gives the caller's vCPU back while waiting. */
int kh_task_join(struct kh_task *t);

/* The vCPU the calling task holds; aborts when it holds none (kernel code ran outside a task). */
int kh_cpu_current(void);
int kh_cpu_count(void);          /* vCPUs of the partition (Welcome.vcpus) */
int kh_cpu_online(int cpu);      /* 1 when cpu is online */
/* The next online vCPU after prev (prev = -1 to start), or kh_cpu_count() when there is none. */
int kh_cpu_next_online(int prev);
int kh_cpu_online_count(void);
/* A shared-processor partition (Welcome.shared_processor). */
int kh_partition_shared(void);

/* Gives the vCPU back, lets others run, takes one again (cond_resched, schedule). */
void kh_yield(void);
/* A voluntary preemption point (might_sleep): gives the vCPU to a stop_machine waiting for it, if any. */
void kh_might_resched(const char *site);
/* A sleep: the vCPU is given back for its duration. site names the kernel function that sleeps. */
void kh_msleep(unsigned long ms, const char *site);
void kh_usleep(unsigned long min_us, unsigned long max_us, const char *site);

/* MSR[EE]: tracked per task; sent with every hcall as interrupts_disabled. */
int kh_irqs_disabled(void);
void kh_irqs_set_disabled(int disabled);

/*
 * stop_machine(): one thread named migration/N per online vCPU, each on its own vCPU. No other task
 * takes a vCPU until all of them have run fn (with interrupts disabled) and let their vCPU go. The caller
 * gives its own vCPU back while it waits. Returns a non-zero result of fn if any, else 0.
 */
int kh_stop_machine(int (*fn)(void *), void *data);

/* ------------------------------------------------------------------------------------------------
 * Locks and waiting.
 *
 * A sleeping lock (struct mutex) is an opaque area inside the kernel's struct; all-zero is unlocked.
 * Taking a contended one emits the tracepoint lock_contended[name] and gives the vCPU back while waiting.
 */

#define KH_LOCK_WORDS 16
struct kh_lock_area {
	unsigned long long opaque[KH_LOCK_WORDS];
};

void kh_mutex_lock(struct kh_lock_area *l, const char *name, const char *site);
int kh_mutex_trylock(struct kh_lock_area *l);
void kh_mutex_unlock(struct kh_lock_area *l, const char *name);
int kh_mutex_is_locked(struct kh_lock_area *l);

/* A spinning lock (spinlock_t, raw_spinlock_t): the waiter keeps its vCPU, as a spinning CPU does. */
void kh_spin_lock(struct kh_lock_area *l);
void kh_spin_unlock(struct kh_lock_area *l);
int kh_spin_trylock(struct kh_lock_area *l);

/* A reader-writer sleeping lock (rw_semaphore: the mm's mmap_lock, the CPU-hotplug lock). */
void kh_rw_down(struct kh_lock_area *l, const char *name, int write, const char *site);
void kh_rw_up(struct kh_lock_area *l, int write);

/* A completion / wait queue: waiters give their vCPU back while they wait. */
struct kh_waitq {
	unsigned long long opaque[KH_LOCK_WORDS];
};
/* Sleeps until cond(arg) is true; cond is evaluated under the waitq's lock, which kh_wake_all also takes. */
void kh_wait_until(struct kh_waitq *q, int (*cond)(void *), void *arg, const char *site);
/* Runs update(arg) under the waitq's lock, then wakes every waiter. */
void kh_wake_all(struct kh_waitq *q, void (*update)(void *), void *arg);

/* ------------------------------------------------------------------------------------------------
 * Memory and text.
 */

/* Power-of-two sizes up to a page come back naturally aligned (PAPR buffers must be 4 KiB aligned). */
void *kh_alloc(unsigned long size, int zero);
void kh_free(const void *p);
unsigned long kh_strlen(const char *s);
int kh_vsnprintf(char *buf, unsigned long size, const char *fmt, __builtin_va_list ap);
int kh_snprintf(char *buf, unsigned long size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The kernel's printk: level is the KERN_* digit ('0'..'7'), or 0 when the text had none. */
void kh_vprintk(int level, const char *fmt, __builtin_va_list ap);
/* Text for the kernel's %pOF family (kernel side): the full path of a struct device_node. */
const char *kh_of_node_path(const void *np);
/* Prints the message and ends the process (BUG(), a broken runtime invariant). */
void kh_panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* Monotonic time in nanoseconds. */
unsigned long long kh_now_ns(void);

/* ------------------------------------------------------------------------------------------------
 * The platform: hcalls, RTAS, tracepoints, events, the report.
 */

/* One hcall on the calling task's vCPU. args: nargs argument registers; rets: up to nrets return
 * registers (zeroed first). Guest buffers named by an argument are copied back by the host side. */
long kh_hcall(unsigned long opcode, int nargs, const unsigned long *args, int nrets, unsigned long *rets);

/* One RTAS call by service name on the calling task's vCPU. work_area (work_len bytes, may be NULL)
 * is sent and overwritten with what firmware left in it. Returns the RTAS status; rets gets the
 * outputs after the status. */
int kh_rtas(const char *service, int nargs, const long *args, int nrets, long *rets, void *work_area,
	    unsigned long work_len);

/* A named point inside the kernel, recorded in the daemon's trace (fire and forget). */
void kh_tracepoint(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Counts an error returned to user space, by errno (negative), for the GuestReport. */
void kh_count_errno(int negative_errno);
/* "EBUSY" for -EBUSY. */
const char *kh_errno_name(int negative_errno);

/* ------------------------------------------------------------------------------------------------
 * The GuestReport, filled in by the kernel side (kh_kernel_report) through these sinks.
 */
void kh_report_credits(unsigned int win_type, unsigned int total, unsigned int used, unsigned int open,
		       unsigned int closed, unsigned int in_progress);
void kh_report_window(unsigned long long win_id, unsigned int win_type, unsigned int status,
		      unsigned long long paste, unsigned int pid, const char *task);
void kh_report_dt_node(const char *path, unsigned int phandle, unsigned int drc_index);
void kh_report_dt_prop(const char *name, const void *value, unsigned long len);
void kh_report_counters(unsigned long long migrations_ok, unsigned long long migrations_failed,
			unsigned long long pastes_ok, unsigned long long pastes_failed);

/* ------------------------------------------------------------------------------------------------
 * Entry points into the kernel side (implemented there). Each runs on a guest task holding a vCPU.
 */

/* Boot (kernel side): the device tree from Welcome, then the initcalls and the NX driver's API registration. */

/* One device-tree node as the firmware hands it over (Welcome.device_tree), parents first. */
struct kh_fdt_prop {
	const char *name;
	const unsigned char *value;
	unsigned long length;
};
void kh_of_begin_tree(void);
void kh_of_add_node(const char *path, unsigned int phandle, unsigned int drc_index,
		    const struct kh_fdt_prop *props, unsigned long nprops);
int kh_kernel_boot(void);
/* The kernel's version string and build flavour ("6.12.117", "debian-6.12"). */
const char *kh_kernel_version(void);
const char *kh_kernel_flavour(void);

/* User space: one process per nx-gzip handle (open(2) of /dev/crypto/nx-gzip, the VAS_TX_WIN_OPEN ioctl,
 * then mmap(2) of the paste page, as libnxz does). Negative errno on failure. */
struct kh_open_result {
	int handle;          /* > 0 when the open and the ioctl succeeded */
	int ioctl_rc;        /* 0 or negative errno */
	int mmap_rc;         /* 0 or negative errno (only tried after a successful ioctl) */
	unsigned long long win_id;
	int pid;             /* the process's PID register (what H_MODIFY_VAS_WINDOW gave the hypervisor) */
};
void kh_sys_nx_open(int qos, int vas_id, struct kh_open_result *out);
/* A paste of length bytes through the handle's mapping: 1 accepted, 0 failed (CR0[EQ] clear), or negative
 * errno (no such handle, SIGBUS). A missing mapping faults into vas-api.c's fault handler. */
int kh_sys_nx_paste(int handle, unsigned long length);
/* close(2) of the handle: 0 or the release's negative errno. */
int kh_sys_nx_close(int handle);
/* The handle's window as vas.c holds it: its id, its Linux status bits, and whether it is on the list.
 * Returns 0, or -ENOENT for an unknown handle / a handle with no window. */
struct kh_window_info {
	unsigned long long win_id;
	unsigned int status;
	int listed;
	unsigned long long paste;
	int pid;
};
int kh_vas_window_info(int handle, struct kh_window_info *out);
/* vas.c's counters for one credit type (0 QoS, 1 Default). */
struct kh_vas_counters {
	int enabled;
	int total, used, open, closed, in_progress;
};
int kh_vas_counters(int type, struct kh_vas_counters *out);
/* sysfs by path ("/sys/kernel/mobility/migration"): the attribute's store / show. */
int kh_sys_sysfs_write(const char *path, const char *value);
int kh_sys_sysfs_read(const char *path, char *buf, unsigned long size);

/* Platform events, as the kernel and its tools receive them (0 or negative errno; detail for the ack). */
int kh_event_migration(unsigned long long stream_id, char *detail, unsigned long size);
int kh_event_dlpar_cpu(int add, unsigned int drc_index, char *detail, unsigned long size);
int kh_event_qos_credits(unsigned int credits, char *detail, unsigned long size);
int kh_event_prrn(unsigned int scope, char *detail, unsigned long size);
/* Fills the report sinks above. */
void kh_kernel_report(void);
/* A guest thread ended (its task_struct, from kh_task_kernel_slot). */
void kh_kernel_task_exit(void *ktask);

#ifdef __cplusplus
}
#endif
#endif /* KH_HOST_H */
