/*
 * kguest: Linux's pseries VAS and mobility code as a guest of an lparemu daemon.
 *
 *   kguest --connect HOST:PORT [--partition NAME] [--clock-scale F] [--name TEXT] [--verbose]
 *
 * It connects to the guest port, boots (the device tree from Welcome, the kernel's initcalls, the nx-gzip
 * API), then handles the platform's events on worker tasks named as the Java guest names them (drmgr for
 * migrations, dlpar for processor and QoS changes, kreport for report requests, rtasd for PRRN) and acks
 * each one. User space is driven by commands on stdin, one per line, each run on a new task:
 *
 *   ID open TASK [qos] [VAS_ID]      a process named TASK opens an nx-gzip window (open, ioctl, mmap)
 *   ID paste TASK HANDLE LEN         a thread TASK of the handle's process pastes LEN bytes
 *   ID close TASK HANDLE             ... unmaps and closes it
 *   ID window HANDLE                 the handle's window as vas.c holds it
 *   ID counters TYPE                 vas.c's counters of credit type TYPE (0 QoS, 1 Default)
 *   ID sysfs-read PATH | ID sysfs-write PATH VALUE
 *   ID report                        send a GuestReport now
 *   ID stats                         the machine's counters (calls, refusals, calls in flight per vCPU)
 *   ID quit
 *
 * Each answer is one line on stdout starting with its ID, in key=value form; lines starting with '!' are
 * unsolicited ("!ready ...", "!event ...", "!lost ..."). The console (printk) goes to stderr.
 *
 * Exit status: 0 after quit or end of input, 2 usage error, 3 the daemon could not be reached or went away
 * (a ProtocolError or a closed connection; the reason is printed), 70 a broken runtime invariant (PANIC).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kh_internal.h"
#include "khc.h"

static khc_t *conn;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void reply(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	pthread_mutex_lock(&out_lock);
	vfprintf(stdout, fmt, ap);
	fputc('\n', stdout);
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
	va_end(ap);
}

static void print_stats(const char *prefix)
{
	struct kh_machine_stats s;
	kh_machine_stats(&s);
	reply("%s hcalls=%llu rtas=%llu refused=%llu max_calls_per_vcpu=%llu max_rtas_in_flight=%llu stop_machines=%llu "
	      "tasks=%llu", prefix, (unsigned long long)s.hcalls, (unsigned long long)s.rtas_calls,
	      (unsigned long long)s.refused, (unsigned long long)s.max_calls_per_vcpu,
	      (unsigned long long)s.max_rtas_in_flight, (unsigned long long)s.stop_machines,
	      (unsigned long long)s.tasks_started);
}

/* ---- the platform: khc ---------------------------------------------------------------------------------- */

static void fill_refusal(struct kh_call_refusal *r, const struct khc_refusal *k)
{
	r->reason = k->reason;
	snprintf(r->text, sizeof(r->text), "%s: %s", k->reason_name, k->message);
}

static int p_hcall(void *ctx, int vcpu, const char *task, int irqs_disabled, unsigned long opcode, int nargs,
		   const unsigned long *args, long *status, int nrets, unsigned long *rets, void *out, size_t out_cap,
		   struct kh_call_refusal *refusal)
{
	struct khc_hcall h = { .opcode = opcode, .vcpu = (uint32_t)vcpu, .nargs = nargs, .task = task,
			       .interrupts_disabled = irqs_disabled };
	for (int i = 0; i < nargs && i < KHC_MAX_ARGS; i++)
		h.args[i] = args[i];
	struct khc_hcall_result r = { .out = out, .out_cap = out_cap };
	int rc = khc_hcall(conn, &h, &r);
	if (rc == KHC_ERR_REFUSED) {
		fill_refusal(refusal, &r.refused);
		return KH_CALL_REFUSED;
	}
	if (rc != KHC_OK)
		return KH_CALL_LOST;
	*status = (long)r.status;
	for (int i = 0; i < nrets && i < r.nrets; i++)
		rets[i] = (unsigned long)r.rets[i];
	return 0;
}

static int p_rtas(void *ctx, int vcpu, const char *task, const char *service, int nargs, const long *args, int *status,
		  int nrets, long *rets, void *work_area, size_t work_len, struct kh_call_refusal *refusal)
{
	struct khc_rtas q = { .service = service, .vcpu = (uint32_t)vcpu, .nargs = nargs, .work_area = work_area,
			      .work_len = work_len, .task = task };
	for (int i = 0; i < nargs && i < 16; i++)
		q.args[i] = args[i];
	struct khc_rtas_result r = { .work_area = work_area, .work_cap = work_len };
	int rc = khc_rtas(conn, &q, &r);
	if (rc == KHC_ERR_REFUSED) {
		fill_refusal(refusal, &r.refused);
		return KH_CALL_REFUSED;
	}
	if (rc != KHC_OK)
		return KH_CALL_LOST;
	*status = r.status;
	for (int i = 0; i < nrets && i < r.nrets; i++)
		rets[i] = (long)r.rets[i];
	return 0;
}

static void p_tracepoint(void *ctx, int vcpu, const char *task, const char *name, const char *detail)
{
	khc_tracepoint(conn, name, detail, (uint32_t)vcpu, task);
}

static void p_lost(void *ctx, const char *why)
{
	reply("!lost %s (during %s)", khc_error(conn), why);
	print_stats("!stats");
	kh_console("kguest: lost the hypervisor: %s (during %s)", khc_error(conn), why);
	_exit(3);
}

/* The daemon ended the connection (ProtocolError, EOF, a malformed frame): the partition has lost its
 * platform and cannot go on. */
static void on_dead(void *ctx, int status, const char *why)
{
	reply("!lost %s", why);
	print_stats("!stats");
	kh_console("kguest: lost the hypervisor: %s", why);
	_exit(3);
}

static const struct kh_platform_ops khc_platform = {
	.hcall = p_hcall, .rtas = p_rtas, .tracepoint = p_tracepoint, .lost = p_lost,
};

/* ---- the report ----------------------------------------------------------------------------------------- */

static __thread struct khc_report *building;

void kh_report_credits(unsigned int win_type, unsigned int total, unsigned int used, unsigned int open,
		       unsigned int closed, unsigned int in_progress)
{
	if (building)
		khc_report_credits(building, win_type, total, used, open, closed, in_progress);
}

void kh_report_window(unsigned long long win_id, unsigned int win_type, unsigned int status, unsigned long long paste,
		      unsigned int pid, const char *task)
{
	if (building)
		khc_report_window(building, win_id, win_type, status, paste, pid, task);
}

void kh_report_dt_node(const char *path, unsigned int phandle, unsigned int drc_index)
{
	if (building)
		khc_report_dt_node(building, path, phandle, drc_index);
}

void kh_report_dt_prop(const char *name, const void *value, unsigned long len)
{
	if (building)
		khc_report_dt_prop(building, name, value, len);
}

void kh_report_counters(unsigned long long migrations_ok, unsigned long long migrations_failed,
			unsigned long long pastes_ok, unsigned long long pastes_failed)
{
	if (building)
		khc_report_counters(building, migrations_ok, migrations_failed, pastes_ok, pastes_failed);
}

static void add_errno(void *ctx, const char *name, uint64_t count)
{
	khc_report_error(ctx, name, count);
}

/* Builds and sends a report; the calling task holds a vCPU. */
static int send_report(uint64_t in_reply_to)
{
	struct khc_report *r = khc_report_new();
	building = r;
	khc_report_dt_begin(r, 0);
	kh_kernel_report();
	building = NULL;
	kh_errno_counts(add_errno, r);
	char policy[64];
	snprintf(policy, sizeof(policy), "linux-%s", kh_kernel_version());
	khc_report_policy(r, policy, "ignore");
	khc_report_in_reply_to(r, in_reply_to);
	int rc = khc_report_send(conn, r);
	khc_report_free(r);
	return rc;
}

/* ---- platform events: one worker task per kind, each a queue -------------------------------------------- */

struct queued {
	struct khc_event e;
	struct queued *next;
};

struct worker {
	const char *comm;
	pthread_mutex_t lock;
	pthread_cond_t cv;
	struct queued *head, **tail;
};

static struct worker drmgr = { .comm = "drmgr" }, dlpar = { .comm = "dlpar" }, kreport = { .comm = "kreport" },
		     rtasd = { .comm = "rtasd" };

static void handle(const struct khc_event *e)
{
	char detail[256] = "";
	int rc;
	kh_vcpu_take();
	switch (e->kind) {
	case KHC_EVENT_MIGRATION:
		rc = kh_event_migration(e->stream_id, detail, sizeof(detail));
		break;
	case KHC_EVENT_DLPAR_CPU:
		rc = kh_event_dlpar_cpu(e->add, e->drc_index, detail, sizeof(detail));
		break;
	case KHC_EVENT_QOS_CREDITS:
		rc = kh_event_qos_credits(e->credits, detail, sizeof(detail));
		break;
	case KHC_EVENT_PRRN:
		rc = kh_event_prrn(e->scope, detail, sizeof(detail));
		break;
	case KHC_EVENT_REPORT_REQUEST:
		rc = send_report(e->id);
		snprintf(detail, sizeof(detail), rc ? "report not sent: %s" : "report sent", khc_status_name(rc));
		break;
	default:
		rc = -22;
		snprintf(detail, sizeof(detail), "unknown event");
		break;
	}
	kh_vcpu_give();
	if (rc < 0 && e->kind != KHC_EVENT_REPORT_REQUEST)
		kh_count_errno(rc);
	khc_event_ack(conn, e->id, rc, detail);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	pthread_setname_np(pthread_self(), w->comm);
	kh_task_adopt(w->comm);
	for (;;) {
		pthread_mutex_lock(&w->lock);
		while (!w->head)
			pthread_cond_wait(&w->cv, &w->lock);
		struct queued *q = w->head;
		w->head = q->next;
		if (!w->head)
			w->tail = &w->head;
		pthread_mutex_unlock(&w->lock);
		handle(&q->e);
		free(q);
	}
	return NULL;
}

static void start_worker(struct worker *w)
{
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->tail = &w->head;
	pthread_t t;
	pthread_create(&t, NULL, worker_main, w);
	pthread_detach(t);
}

/* On the client's reader thread: queue and return. */
static void on_event(void *ctx, const struct khc_event *e)
{
	struct worker *w = e->kind == KHC_EVENT_MIGRATION ? &drmgr
			 : e->kind == KHC_EVENT_REPORT_REQUEST ? &kreport
			 : e->kind == KHC_EVENT_PRRN ? &rtasd : &dlpar;
	struct queued *q = calloc(1, sizeof(*q));
	q->e = *e;
	pthread_mutex_lock(&w->lock);
	*w->tail = q;
	w->tail = &q->next;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->lock);
}

/* ---- boot --------------------------------------------------------------------------------------------------- */

static void add_node(void *ctx, const char *path, uint32_t phandle, uint32_t drc_index, size_t nprops,
		     const char *const *names, const uint8_t *const *values, const size_t *lengths)
{
	struct kh_fdt_prop *props = calloc(nprops + 1, sizeof(*props));
	for (size_t i = 0; i < nprops; i++)
		props[i] = (struct kh_fdt_prop) { .name = names[i], .value = values[i], .length = lengths[i] };
	kh_of_add_node(path, phandle, drc_index, props, nprops);
	free(props);
}

static int boot_main(void *arg)
{
	kh_of_begin_tree();
	khc_device_tree(conn, add_node, NULL);
	return kh_kernel_boot();
}

/* ---- commands ------------------------------------------------------------------------------------------------ */

struct command {
	char id[32];
	char verb[32];
	char task[KH_TASK_COMM_LEN];   /* open, paste, close: the thread that runs it */
	char a[256];
	char b[256];
	int nargs;                     /* words after the task (user commands) or after the verb (others) */
};

static int run_command(void *arg)
{
	struct command *cmd = arg;
	if (strcmp(cmd->verb, "open") == 0) {
		int qos = cmd->nargs > 0 && (strcmp(cmd->a, "qos") == 0 || strcmp(cmd->a, "1") == 0);
		int vas_id = cmd->nargs > 1 ? atoi(cmd->b) : 0;
		struct kh_open_result r;
		kh_sys_nx_open(qos, vas_id, &r);
		if (r.ioctl_rc)
			reply("%s open handle=0 rc=%d err=%s", cmd->id, r.ioctl_rc, kh_errno_name(r.ioctl_rc));
		else
			reply("%s open handle=%d rc=0 win=%llu pid=%d mmap=%d", cmd->id, r.handle, r.win_id, r.pid, r.mmap_rc);
	} else if (strcmp(cmd->verb, "paste") == 0) {
		int rc = kh_sys_nx_paste(atoi(cmd->a), strtoul(cmd->b, NULL, 0));
		reply("%s paste handle=%s result=%s", cmd->id, cmd->a, rc > 0 ? "ok" : rc == 0 ? "fail" : kh_errno_name(rc));
	} else if (strcmp(cmd->verb, "close") == 0) {
		int rc = kh_sys_nx_close(atoi(cmd->a));
		reply("%s close handle=%s rc=%d%s%s", cmd->id, cmd->a, rc, rc ? " err=" : "", rc ? kh_errno_name(rc) : "");
	} else if (strcmp(cmd->verb, "window") == 0) {
		struct kh_window_info w;
		int rc = kh_vas_window_info(atoi(cmd->a), &w);
		if (rc)
			reply("%s window handle=%s none", cmd->id, cmd->a);
		else
			reply("%s window handle=%s win=%llu status=%u listed=%d paste=0x%llx pid=%d", cmd->id, cmd->a,
			      w.win_id, w.status, w.listed, w.paste, w.pid);
	} else if (strcmp(cmd->verb, "counters") == 0) {
		struct kh_vas_counters c;
		int rc = kh_vas_counters(atoi(cmd->a), &c);
		if (rc)
			reply("%s counters type=%s err=%s", cmd->id, cmd->a, kh_errno_name(rc));
		else
			reply("%s counters type=%s enabled=%d total=%d used=%d open=%d closed=%d progress=%d", cmd->id,
			      cmd->a, c.enabled, c.total, c.used, c.open, c.closed, c.in_progress);
	} else if (strcmp(cmd->verb, "sysfs-read") == 0) {
		char buf[4096] = "";
		int rc = kh_sys_sysfs_read(cmd->a, buf, sizeof(buf));
		for (char *p = buf; *p; p++)
			if (*p == '\n')
				*p = ' ';
		if (rc)
			reply("%s sysfs-read rc=%d err=%s", cmd->id, rc, kh_errno_name(rc));
		else
			reply("%s sysfs-read rc=0 value=%s", cmd->id, buf);
	} else if (strcmp(cmd->verb, "sysfs-write") == 0) {
		int rc = kh_sys_sysfs_write(cmd->a, cmd->b);
		reply("%s sysfs-write rc=%d%s%s", cmd->id, rc, rc ? " err=" : "", rc ? kh_errno_name(rc) : "");
	} else if (strcmp(cmd->verb, "report") == 0) {
		int rc = send_report(0);
		reply("%s report rc=%d", cmd->id, rc);
	} else {
		reply("%s error unknown-command %s", cmd->id, cmd->verb);
	}
	free(cmd);
	return 0;
}

static int is_user_verb(const char *verb)
{
	return strcmp(verb, "open") == 0 || strcmp(verb, "paste") == 0 || strcmp(verb, "close") == 0;
}

/* Parses one command line and starts the task that runs it. */
static void dispatch(char *line)
{
	char id[32] = "", verb[32] = "", w[3][256] = { "", "", "" };
	int n = sscanf(line, "%31s %31s %255s %255s %255s", id, verb, w[0], w[1], w[2]);
	if (n < 1)
		return;
	if (n < 2) {
		reply("%s error usage: ID VERB ...", id);
		return;
	}
	if (strcmp(verb, "quit") == 0) {
		print_stats("!stats");
		reply("%s quit", id);
		khc_close(conn);
		exit(0);
	}
	if (strcmp(verb, "stats") == 0) {
		char prefix[64];
		snprintf(prefix, sizeof(prefix), "%s stats", id);
		print_stats(prefix);
		return;
	}
	struct command *cmd = calloc(1, sizeof(*cmd));
	snprintf(cmd->id, sizeof(cmd->id), "%s", id);
	snprintf(cmd->verb, sizeof(cmd->verb), "%s", verb);
	int user = is_user_verb(verb);
	if (user) {
		if (n < 3) {
			reply("%s error usage: %s TASK ...", id, verb);
			free(cmd);
			return;
		}
		snprintf(cmd->task, sizeof(cmd->task), "%.15s", w[0]);
		snprintf(cmd->a, sizeof(cmd->a), "%s", w[1]);
		snprintf(cmd->b, sizeof(cmd->b), "%s", w[2]);
		cmd->nargs = n - 3;
	} else {
		snprintf(cmd->task, sizeof(cmd->task), "kcmd");
		snprintf(cmd->a, sizeof(cmd->a), "%s", w[0]);
		snprintf(cmd->b, sizeof(cmd->b), "%s", w[1]);
		cmd->nargs = n - 2;
	}
	kh_task_detach(kh_task_start(cmd->task, -1, run_command, cmd));
}

/* ---- main ----------------------------------------------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr, "usage: kguest --connect HOST:PORT [--partition NAME] [--clock-scale F] [--name TEXT] [--verbose]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *connect_to = NULL, *partition = "lpar1", *name = NULL;
	double scale = 1.0;
	int verbose = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--connect") == 0 && i + 1 < argc)
			connect_to = argv[++i];
		else if (strcmp(argv[i], "--partition") == 0 && i + 1 < argc)
			partition = argv[++i];
		else if (strcmp(argv[i], "--clock-scale") == 0 && i + 1 < argc)
			scale = strtod(argv[++i], NULL);
		else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
			name = argv[++i];
		else if (strcmp(argv[i], "--verbose") == 0)
			verbose = 1;
		else
			usage();
	}
	if (!connect_to || scale <= 0)
		usage();
	char host[256];
	snprintf(host, sizeof(host), "%s", connect_to);
	char *colon = strrchr(host, ':');
	if (!colon)
		usage();
	*colon = 0;
	int port = atoi(colon + 1);
	signal(SIGPIPE, SIG_IGN);

	char client_name[128];
	snprintf(client_name, sizeof(client_name), "%s", name ? name : "kguest");
	struct khc_options o = { .host = host, .port = port, .partition = partition, .client_name = client_name };
	char err[512];
	conn = khc_connect(&o, err, sizeof(err));
	if (!conn) {
		fprintf(stderr, "kguest: cannot join partition %s at %s: %s\n", partition, connect_to, err);
		printf("!lost %s\n", err);
		return 3;
	}
	struct kh_machine_config cfg = { .vcpus = (int)khc_vcpus(conn), .clock_scale = scale,
					 .shared_processor = khc_shared_processor(conn), .verbose = verbose };
	kh_machine_init(&cfg);
	kh_set_platform(&khc_platform, NULL);
	khc_set_dead_handler(conn, on_dead, NULL);
	kh_task_adopt("kguest");

	struct kh_task *boot = kh_task_start("swapper", -1, boot_main, NULL);
	int failures = kh_task_join(boot);

	start_worker(&drmgr);
	start_worker(&dlpar);
	start_worker(&kreport);
	start_worker(&rtasd);
	khc_set_event_handler(conn, on_event, NULL);
	reply("!ready kernel=%s flavour=%s vcpus=%u system=%s initcall_failures=%d", kh_kernel_version(),
	      kh_kernel_flavour(), khc_vcpus(conn), khc_system(conn), failures);

	char line[1024];
	while (fgets(line, sizeof(line), stdin))
		dispatch(line);
	print_stats("!stats");
	khc_close(conn);
	return 0;
}
