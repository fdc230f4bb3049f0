/*
 * The runtime's self-test: shared between the kernel-side test file (k_selftest.c, compiled like kernel
 * code) and the host-side harness (h_selftest.c: main, the fake platform, the checks). Plain C types only.
 */
#ifndef KT_H
#define KT_H

/* Records a failure of the running test (host side). */
void kt_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The fake platform's view (host side). */
struct kt_platform_counts {
	unsigned long hcalls;
	unsigned long prods;
	unsigned long joins;
	unsigned long bad_mode;          /* H_JOIN made with interrupts enabled */
	unsigned long wrong_vcpu;        /* a call naming a vCPU its task does not own */
	unsigned long two_calls_on_vcpu; /* a second call on a vCPU already in one */
	unsigned long rtas_overlap;      /* a second RTAS call while one is in flight */
	unsigned long calls_during_stop; /* calls by other tasks while a stop_machine callback runs */
	unsigned long max_rtas_in_flight;
};
void kt_counts(struct kt_platform_counts *out);
void kt_reset_counts(void);
/* Marks the window in which only stop_machine's threads may make calls. */
void kt_stop_window(int open);
/* How many tracepoints named exactly name were seen since the last reset. */
unsigned long kt_tracepoints(const char *name);
/* Is a stop_machine pending (the machine's view)? */
int kt_stop_pending(void);
/* The fake hcall's service time, in microseconds. */
void kt_set_hcall_delay_us(unsigned long us);

/* Kernel-side tests: each returns when done; failures go through kt_fail. Run on a guest task. */
void kt_for_each_online_cpu(void);
void kt_prod_storm(void);
void kt_one_call_per_vcpu(void);
void kt_stop_machine_exclusive(void);
void kt_might_sleep_yields_to_stop_machine(void);
void kt_h_join_interrupts(void);
void kt_sleep_gives_back_vcpu(void);
void kt_mutex_contention(void);
void kt_rtas_serialized(void);
void kt_sysfs_registry(void);
void kt_device_tree(void);
void kt_kstrto(void);
void kt_printk_formats(void);

#endif
