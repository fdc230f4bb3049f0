/*
 * Tasks, pids and address spaces. Every guest thread gets a task_struct the first time kernel code asks
 * for current; user processes (the nx-gzip handles' owners, k_user.c) give their threads an mm.
 */
#include <linux/kernel.h>
#include <linux/sched.h>

#include "k_internal.h"

static DEFINE_SPINLOCK(pid_lock);
struct kh_pid_entry {
	struct pid pid;
	struct kh_pid_entry *next;
};
static struct kh_pid_entry *pids;   /* guarded by pid_lock */

static struct pid *pid_new(int nr, struct task_struct *task)
{
	struct kh_pid_entry *e = kzalloc(sizeof(*e), GFP_KERNEL);
	refcount_set(&e->pid.count, 1);
	e->pid.nr = nr;
	e->pid.task = task;
	spin_lock(&pid_lock);
	e->next = pids;
	pids = e;
	spin_unlock(&pid_lock);
	return &e->pid;
}

struct task_struct *kh_get_current(void)
{
	struct kh_task *h = kh_task_self();
	if (!h)
		kh_panic("current used on a thread that is not a guest task");
	void **slot = kh_task_kernel_slot(h);
	if (!*slot) {
		struct task_struct *t = kzalloc(sizeof(*t), GFP_KERNEL);
		t->pid = kh_task_pid(h);
		t->tgid = t->pid;
		strscpy(t->comm, kh_task_comm(h), sizeof(t->comm));
		t->flags = PF_KTHREAD;
		refcount_set(&t->usage, 1);
		t->host = h;
		t->thread_pid = pid_new(t->pid, t);
		*slot = t;
	}
	return *slot;
}

/* Called by the host side when a guest thread ends. */
void kh_kernel_task_exit(void *ktask)
{
	struct task_struct *t = ktask;
	if (!t)
		return;
	spin_lock(&pid_lock);
	t->thread_pid->task = NULL;
	spin_unlock(&pid_lock);
	put_pid(t->thread_pid);
	put_task_struct(t);
}

struct pid *get_task_pid(struct task_struct *task, enum pid_type type)
{
	if (type != PIDTYPE_PID)
		kh_panic("get_task_pid type %d not modelled", type);
	refcount_inc(&task->thread_pid->count);
	return task->thread_pid;
}

struct pid *find_get_pid(int nr)
{
	struct pid *found = NULL;
	spin_lock(&pid_lock);
	for (struct kh_pid_entry *e = pids; e; e = e->next) {
		if (e->pid.nr == nr && e->pid.task) {
			refcount_inc(&e->pid.count);
			found = &e->pid;
			break;
		}
	}
	spin_unlock(&pid_lock);
	return found;
}

void put_pid(struct pid *pid)
{
	if (!pid || !refcount_dec_and_test(&pid->count))
		return;
	spin_lock(&pid_lock);
	for (struct kh_pid_entry **pp = &pids; *pp; pp = &(*pp)->next) {
		if (&(*pp)->pid == pid) {
			struct kh_pid_entry *e = *pp;
			*pp = e->next;
			kfree(e);
			break;
		}
	}
	spin_unlock(&pid_lock);
}

struct task_struct *get_pid_task(struct pid *pid, enum pid_type type)
{
	struct task_struct *t = NULL;
	spin_lock(&pid_lock);
	if (pid && pid->task) {
		t = pid->task;
		refcount_inc(&t->usage);
	}
	spin_unlock(&pid_lock);
	return t;
}

void put_task_struct(struct task_struct *t)
{
	if (refcount_dec_and_test(&t->usage))
		kfree(t);
}

pid_t pid_vnr(struct pid *pid)
{
	return pid ? pid->nr : 0;
}

int kill_pid_info(int sig, struct kernel_siginfo *info, struct pid *pid)
{
	pr_warn("kharness: signal %d for pid %d (not delivered: user space is modelled, not run)\n", sig, pid_vnr(pid));
	return 0;
}

/* ---- address spaces ------------------------------------------------------------------------------------- */

struct mm_struct *kh_mm_new(unsigned long context_id)
{
	struct mm_struct *mm = kzalloc(sizeof(*mm), GFP_KERNEL);
	atomic_set(&mm->mm_users, 1);
	atomic_set(&mm->mm_count, 1);
	mm->mmap_lock.name = "mmap_lock";
	mm->context.id = context_id;
	return mm;
}

struct mm_struct *get_task_mm(struct task_struct *task)
{
	struct mm_struct *mm = task->mm;
	if (mm)
		atomic_inc(&mm->mm_users);
	return mm;
}

void mmput(struct mm_struct *mm)
{
	if (mm)
		atomic_dec(&mm->mm_users);
}

void mmdrop(struct mm_struct *mm)
{
	if (mm && atomic_dec_and_test(&mm->mm_count))
		kfree(mm);
}

unsigned long kh_mfspr(int spr)
{
	if (spr != SPRN_PID)
		kh_panic("mfspr(0x%x) not modelled", spr);
	struct task_struct *t = current;
	return t->mm ? t->mm->context.id : 0;
}
