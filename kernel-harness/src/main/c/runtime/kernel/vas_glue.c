/*
 * Linux's vas.c, compiled here unmodified (#include of the kernel's own file), plus what the harness needs to
 * read its static state: the credit counters and window list of each type, for the GuestReport and the
 * scenarios' window bits. Nothing below changes vas.c's behaviour; every read takes vas_pseries_mutex, as the
 * kernel's own readers of the list do.
 */
#include "arch/powerpc/platforms/pseries/vas.c"

/* ---- the harness's reads of vas.c's state ---------------------------------------------------------------- */

#include "k_internal.h"
#include "kh_features.h"

/* A type whose capabilities were never read (the hypervisor did not offer it) has an uninitialised list. */
static bool kh_type_initialised(const struct vas_caps *vcaps)
{
	return vcaps->list.next != NULL;
}

/* Whether vwin is on its type's list, with its status bits and paste address, read under the mutex. */
int kh_vas_window_listed(struct vas_window *vwin, unsigned int *status, unsigned long long *paste)
{
	int listed = 0;
	struct pseries_vas_window *win = container_of(vwin, struct pseries_vas_window, vas_win);
	mutex_lock(&vas_pseries_mutex);
	for (int t = 0; t < VAS_MAX_FEAT_TYPE && !listed; t++) {
		struct pseries_vas_window *w;
		if (!kh_type_initialised(&vascaps[t]))
			continue;
		list_for_each_entry(w, &vascaps[t].list, win_list)
			if (w == win)
				listed = 1;
	}
	*status = vwin->status;
	*paste = win->win_addr;
	mutex_unlock(&vas_pseries_mutex);
	return listed;
}

/*
 * Windows allocated in the hypervisor by an open that has not finished: v6.7+ counts them itself
 * (nr_open_wins_progress); before that the count is the credits taken by opens not yet on the list
 * (nr_used_credits - nr_open_windows), which is the same number once nothing is half-way through the
 * credit check.
 */
static int kh_in_progress_locked(struct vas_caps *vcaps)
{
#if KH_VAS_HAS_OPEN_WINS_PROGRESS
	return vcaps->nr_open_wins_progress;
#else
	return atomic_read(&vcaps->caps.nr_used_credits) - vcaps->nr_open_windows;
#endif
}

int kh_vas_counters(int type, struct kh_vas_counters *out)
{
	if (type < 0 || type >= VAS_MAX_FEAT_TYPE)
		return -EINVAL;
	struct vas_caps *vcaps = &vascaps[type];
	mutex_lock(&vas_pseries_mutex);
	out->enabled = kh_type_initialised(vcaps) && vcaps->caps.descriptor != 0;
	out->total = atomic_read(&vcaps->caps.nr_total_credits);
	out->used = atomic_read(&vcaps->caps.nr_used_credits);
	out->open = vcaps->nr_open_windows;
	out->closed = vcaps->nr_close_wins;
	out->in_progress = kh_in_progress_locked(vcaps);
	mutex_unlock(&vas_pseries_mutex);
	return 0;
}

void kh_vas_report(void)
{
	mutex_lock(&vas_pseries_mutex);
	for (int t = 0; t < VAS_MAX_FEAT_TYPE; t++) {
		struct vas_caps *vcaps = &vascaps[t];
		kh_report_credits(t, atomic_read(&vcaps->caps.nr_total_credits), atomic_read(&vcaps->caps.nr_used_credits),
				  vcaps->nr_open_windows, vcaps->nr_close_wins, kh_in_progress_locked(vcaps));
		if (!kh_type_initialised(vcaps))
			continue;
		struct pseries_vas_window *w;
		list_for_each_entry(w, &vcaps->list, win_list)
			kh_report_window(w->vas_win.winid, w->win_type, w->vas_win.status, w->win_addr, w->pid,
					 kh_user_task_of_pid((int)w->pid));
	}
	mutex_unlock(&vas_pseries_mutex);
}

bool kh_vas_copypaste(void)
{
	return copypaste_feat;
}
