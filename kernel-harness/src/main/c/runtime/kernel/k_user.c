/*
 * User space, modelled: one process per nx-gzip handle, doing what a compression library (libnxz) does
 * with /dev/crypto/nx-gzip: open(2), the VAS_TX_WIN_OPEN ioctl, mmap(2) of the one paste page, pastes,
 * then munmap(2) and close(2). Every step calls vas-api.c's own file operations.
 *
 * A paste is the "paste." instruction on the mapped page. While the page table holds the window's page
 * (remap_pfn_range / vmf_insert_pfn installed it, zap_vma_pages has not removed it) the paste reaches the
 * platform, which accepts it only at an active window's address (the emulator-private hcall
 * H_LPAREMU_NX_PASTE). When the page is gone the access faults: the runtime presents vas-api.c's fault handler
 * (vas_mmap_fault) with a user-mode register state whose instruction is a paste; the handler either maps the
 * window's current page (then the paste is retried) or emulates a failed paste by clearing CR0 and advancing
 * the instruction pointer (do_fail_paste), which is how user space learns its window is closed.
 *
 * The commands of one process may run on different threads (a task named after the command's caller); each
 * runs as a thread of that process: current->mm and current->tgid are the process's.
 */
#include <linux/kernel.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <asm/hvcall.h>
#include <asm/vas.h>
#include <uapi/asm/vas-api.h>

#include "k_internal.h"

#define CR0_EQ 0x20000000UL
#define CR0_MASK 0xe0000000UL
#define MSR_PR (1UL << MSR_PR_BIT)
/* Where the modelled processes map their paste page: any user address works; each process has its own. */
#define USER_PASTE_BASE 0x7ff000000000UL

struct kh_process {
	int handle;
	int pid;                       /* the process id (tgid), also its PID register value */
	char comm[TASK_COMM_LEN];
	struct mm_struct *mm;
	struct inode inode;
	struct file file;
	bool file_open;
	struct vm_area_struct *vma;    /* the paste page's mapping, or NULL */
	u32 text[2];                   /* the process's code: a paste instruction (the faulting access) */
	struct kh_process *next;
};

static DEFINE_MUTEX(processes_mutex);
static struct kh_process *processes;   /* guarded by processes_mutex */
static int next_handle = 1;
static unsigned long long pastes_ok, pastes_failed;

static struct kh_process *find_process(int handle)
{
	mutex_lock(&processes_mutex);
	struct kh_process *p = processes;
	while (p && p->handle != handle)
		p = p->next;
	mutex_unlock(&processes_mutex);
	return p;
}

/* Runs the calling thread as a thread of p until leave(). */
static void enter(struct kh_process *p)
{
	struct task_struct *t = current;
	t->mm = p->mm;
	t->active_mm = p->mm;
	t->tgid = p->pid;
	t->flags &= ~PF_KTHREAD;
}

static void leave(void)
{
	struct task_struct *t = current;
	t->mm = NULL;
	t->active_mm = NULL;
	t->tgid = t->pid;
	t->flags |= PF_KTHREAD;
	t->thread.regs = NULL;
}

static void destroy_process(struct kh_process *p)
{
	mutex_lock(&processes_mutex);
	for (struct kh_process **pp = &processes; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	mutex_unlock(&processes_mutex);
	mmput(p->mm);
	mmdrop(p->mm);
	kfree(p);
}

static int do_mmap(struct kh_process *p)
{
	struct vm_area_struct *vma = kzalloc(sizeof(*vma), GFP_KERNEL);
	vma->vm_start = USER_PASTE_BASE + (unsigned long)p->handle * 16 * PAGE_SIZE;
	vma->vm_end = vma->vm_start + PAGE_SIZE;
	vma->vm_mm = p->mm;
	vma->vm_file = &p->file;
	mmap_write_lock(p->mm);
	int rc = p->file.f_op->mmap(&p->file, vma);
	if (rc == 0) {
		p->vma = vma;
		p->mm->vmas = vma;
	}
	mmap_write_unlock(p->mm);
	if (rc) {
		kfree(vma);
		kh_count_errno(rc);
	}
	return rc;
}

static void do_munmap(struct kh_process *p)
{
	mmap_write_lock(p->mm);
	struct vm_area_struct *vma = p->vma;
	if (vma && vma->vm_ops && vma->vm_ops->close)
		vma->vm_ops->close(vma);
	p->vma = NULL;
	p->mm->vmas = NULL;
	mmap_write_unlock(p->mm);
	kfree(vma);
}

void kh_sys_nx_open(int qos, int vas_id, struct kh_open_result *out)
{
	memset(out, 0, sizeof(*out));
	struct task_struct *t = current;
	struct kh_process *p = kzalloc(sizeof(*p), GFP_KERNEL);
	p->pid = t->pid;
	strscpy(p->comm, t->comm, sizeof(p->comm));
	p->mm = kh_mm_new((unsigned long)p->pid);
	p->text[0] = PPC_INST_PASTE;
	mutex_lock(&processes_mutex);
	p->handle = next_handle++;
	p->next = processes;
	processes = p;
	mutex_unlock(&processes_mutex);
	enter(p);
	out->pid = p->pid;

	/* open("/dev/crypto/nx-gzip", O_RDWR) */
	dev_t devt;
	struct cdev *cdev = kh_dev_lookup("/dev/crypto/nx-gzip", &devt);
	int rc = cdev ? 0 : -ENODEV;
	if (!rc) {
		p->inode.i_rdev = devt;
		p->inode.i_cdev = cdev;
		p->file.f_inode = &p->inode;
		p->file.f_op = cdev->ops;
		rc = p->file.f_op->open(&p->inode, &p->file);
		p->file_open = rc == 0;
	}
	/* ioctl(fd, VAS_TX_WIN_OPEN, &attr) */
	if (!rc) {
		struct vas_tx_win_open_attr attr;
		memset(&attr, 0, sizeof(attr));
		attr.version = 1;
		attr.vas_id = (__s16)vas_id;
		attr.flags = qos ? VAS_TX_WIN_FLAG_QOS_CREDIT : 0;
		rc = (int)p->file.f_op->unlocked_ioctl(&p->file, VAS_TX_WIN_OPEN, (unsigned long)&attr);
	}
	out->ioctl_rc = rc;
	if (rc) {
		kh_count_errno(rc);
		if (p->file_open)
			p->file.f_op->release(&p->inode, &p->file);
		leave();
		destroy_process(p);
		return;
	}
	struct vas_window *w = kh_file_txwin(&p->file);
	out->win_id = w ? w->winid : 0;
	/* mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) */
	out->mmap_rc = do_mmap(p);
	out->handle = p->handle;
	leave();
}

/* One paste: 1 accepted, 0 failed, negative errno when the access cannot complete. */
int kh_sys_nx_paste(int handle, unsigned long length)
{
	struct kh_process *p = find_process(handle);
	if (!p)
		return -EBADF;
	enter(p);
	int result;
	if (!p->vma && do_mmap(p) != 0) {
		/* No mapping to paste to (mmap refused: the window is not active). */
		result = 0;
		goto out;
	}
	for (int attempt = 0;; attempt++) {
		mmap_read_lock(p->mm);
		struct vm_area_struct *vma = p->vma;
		unsigned long pfn = vma ? vma->kh_pfn : 0;
		if (pfn) {
			mmap_read_unlock(p->mm);
			long rc = plpar_hcall_norets(H_LPAREMU_NX_PASTE, pfn << PAGE_SHIFT, length);
			result = rc == H_SUCCESS ? 1 : 0;
			goto out;
		}
		if (attempt == 3) {
			/* A fault handler that maps the page three times without it staying mapped: give up. */
			mmap_read_unlock(p->mm);
			result = -EFAULT;
			goto out;
		}
		/* The page is not present: the paste faults into the VMA's handler. */
		struct pt_regs regs = { 0 };
		regs.msr = MSR_PR;
		regs.nip = (unsigned long)(uintptr_t)&p->text[0];
		regs.ccr = CR0_EQ;
		current->thread.regs = &regs;
		struct vm_fault vmf = { .vma = vma, .address = vma->vm_start };
		vm_fault_t f = vma->vm_ops && vma->vm_ops->fault ? vma->vm_ops->fault(&vmf) : VM_FAULT_SIGBUS;
		current->thread.regs = NULL;
		mmap_read_unlock(p->mm);
		if (f & VM_FAULT_SIGBUS) {
			result = -EFAULT;
			goto out;
		}
		if (regs.nip != (unsigned long)(uintptr_t)&p->text[0]) {
			/* The handler completed the paste as failed (CR0[EQ] clear). */
			result = (regs.ccr & CR0_EQ) ? 1 : 0;
			goto out;
		}
		/* The handler mapped the window's page: execute the paste again. */
	}
out:
	leave();
	if (result > 0)
		__atomic_add_fetch(&pastes_ok, 1, __ATOMIC_RELAXED);
	else
		__atomic_add_fetch(&pastes_failed, 1, __ATOMIC_RELAXED);
	return result;
}

int kh_sys_nx_close(int handle)
{
	struct kh_process *p = find_process(handle);
	if (!p)
		return -EBADF;
	enter(p);
	do_munmap(p);
	int rc = 0;
	if (p->file_open)
		rc = p->file.f_op->release(&p->inode, &p->file);
	leave();
	/* The file is gone whatever release answered, as fput ignores it. */
	if (rc)
		kh_count_errno(rc);
	destroy_process(p);
	return rc;
}

int kh_vas_window_info(int handle, struct kh_window_info *out)
{
	struct kh_process *p = find_process(handle);
	if (!p || !p->file_open)
		return -ENOENT;
	struct vas_window *w = kh_file_txwin(&p->file);
	if (!w)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	out->listed = kh_vas_window_listed(w, &out->status, &out->paste);
	out->win_id = w->winid;
	out->pid = p->pid;
	return 0;
}

void kh_user_report(unsigned long long *ok, unsigned long long *failed)
{
	*ok = __atomic_load_n(&pastes_ok, __ATOMIC_RELAXED);
	*failed = __atomic_load_n(&pastes_failed, __ATOMIC_RELAXED);
}

/* The command name of the process with this pid (the task that opened its window), or "". */
const char *kh_user_task_of_pid(int pid)
{
	const char *comm = "";
	mutex_lock(&processes_mutex);
	for (struct kh_process *p = processes; p; p = p->next)
		if (p->pid == pid)
			comm = p->comm;
	mutex_unlock(&processes_mutex);
	return comm;
}

/* ---- the page table of a VMA ------------------------------------------------------------------------------- */

int remap_pfn_range(struct vm_area_struct *vma, unsigned long addr, unsigned long pfn, unsigned long size,
		    pgprot_t prot)
{
	if (addr != vma->vm_start || size != PAGE_SIZE)
		return -EINVAL;
	vma->kh_pfn = pfn;
	return 0;
}

vm_fault_t vmf_insert_pfn(struct vm_area_struct *vma, unsigned long addr, unsigned long pfn)
{
	vma->kh_pfn = pfn;
	return VM_FAULT_NOPAGE;
}

void zap_vma_pages(struct vm_area_struct *vma)
{
	vma->kh_pfn = 0;
}

void zap_page_range(struct vm_area_struct *vma, unsigned long address, unsigned long size)
{
	vma->kh_pfn = 0;
}
