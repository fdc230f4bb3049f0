/*
 * Kernel-side runtime internals shared between its files (compiled with the shim prelude).
 */
#ifndef KH_K_INTERNAL_H
#define KH_K_INTERNAL_H

/* k_task.c */
struct mm_struct *kh_mm_new(unsigned long context_id);
void kh_kernel_task_exit(void *ktask);

/* k_base.c: the CPU-hotplug lock taken for writing (processor DLPAR). */
void kh_cpus_write_lock(void);
void kh_cpus_write_unlock(void);

/* k_of.c */
struct device_node *kh_of_new_node(const char *full_name);
struct property *kh_of_new_property(const char *name, const void *value, int length);
void kh_of_add_child(struct device_node *parent, struct device_node *child);
struct device_node *kh_of_find_by_drc_index(u32 drc_index);
void kh_of_free_detached(struct device_node *np);
void kh_of_report(void);

/* k_sysfs.c: the character device behind a /dev path, and sysfs by path. */
struct cdev *kh_dev_lookup(const char *devpath, dev_t *devt);

/* vas_glue.c / vas_api_glue.c */
struct vas_window *kh_file_txwin(struct file *fp);
int kh_vas_window_listed(struct vas_window *vwin, unsigned int *status, unsigned long long *paste);
void kh_vas_report(void);
bool kh_vas_copypaste(void);

/* k_user.c */
void kh_user_report(unsigned long long *pastes_ok, unsigned long long *pastes_failed);
const char *kh_user_task_of_pid(int pid);

/* k_boot.c */
void kh_mobility_counters(unsigned long long *ok, unsigned long long *failed);

#endif
