/* churn: one kmalloc + one kfree in a 2 KiB slab cache per operation
 * (msgsnd + msgrcv of 1500 bytes: load_msg allocates, free_msg frees), on
 * one pinned CPU. Prints "ns_per_op X ops N cpu_ns_per_op Y": wall time
 * and this thread's CPU time (user + system, which includes the BPF
 * programs run in its syscalls) per op. On a busy machine the CPU time
 * figure leaves out the time other tasks held the CPU. Used by
 * scripts/slk-lab bench.
 *   churn OPS [CPU] [BYTES]
 * OPS = 0 churns until SIGINT/SIGTERM (background load for the daemon
 * measurement), then prints the same line. CPU = -1 leaves it unpinned.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <time.h>

struct msg {
	long mtype;
	char mtext[8192];
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double ns_between(const struct timespec *x, const struct timespec *y)
{
	return (y->tv_sec - x->tv_sec) * 1e9 + (y->tv_nsec - x->tv_nsec);
}

static void report(const struct timespec *a, const struct timespec *b,
		   const struct timespec *ca, const struct timespec *cb, long done)
{
	double n = done ? (double)done : 1.0;

	printf("ns_per_op %.1f ops %ld cpu_ns_per_op %.1f\n", ns_between(a, b) / n, done,
	       ns_between(ca, cb) / n);
}

int main(int argc, char **argv)
{
	long ops = argc > 1 ? atol(argv[1]) : 200000;
	int cpu = argc > 2 ? atoi(argv[2]) : 1;
	int bytes = argc > 3 ? atoi(argv[3]) : 1500;
	static struct msg m;
	struct timespec a, b, ca, cb;
	cpu_set_t set;
	int q;

	if (ops < 0 || bytes <= 0 || bytes > (int)sizeof(m.mtext)) {
		fprintf(stderr, "usage: churn OPS [CPU] [BYTES<=8192]\n");
		return 2;
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (cpu >= 0 && sched_setaffinity(0, sizeof(set), &set) != 0)
		perror("sched_setaffinity (continuing unpinned)");
	if (ops == 0) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;  /* no SA_RESTART: msgrcv returns EINTR */
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	if (q < 0) {
		perror("msgget");
		return 1;
	}
	m.mtype = 1;
	memset(m.mtext, 'x', bytes);
	for (long i = 0; i < (ops ? ops / 10 : 0) + 1000; i++) { /* warm up */
		msgsnd(q, &m, bytes, 0);
		msgrcv(q, &m, sizeof(m.mtext), 0, 0);
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ca);
	clock_gettime(CLOCK_MONOTONIC, &a);
	if (ops == 0) {
		long done = 0;

		while (!stop) {
			if (msgsnd(q, &m, bytes, 0) != 0 || msgrcv(q, &m, sizeof(m.mtext), 0, 0) < 0) {
				if (errno == EINTR)
					continue;
				perror("msgsnd/msgrcv");
				msgctl(q, IPC_RMID, NULL);
				return 1;
			}
			done++;
		}
		clock_gettime(CLOCK_MONOTONIC, &b);
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cb);
		msgctl(q, IPC_RMID, NULL);
		report(&a, &b, &ca, &cb, done);
		return 0;
	}
	for (long i = 0; i < ops; i++) {
		if (msgsnd(q, &m, bytes, 0) != 0 || msgrcv(q, &m, sizeof(m.mtext), 0, 0) < 0) {
			perror("msgsnd/msgrcv");
			msgctl(q, IPC_RMID, NULL);
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cb);
	msgctl(q, IPC_RMID, NULL);
	report(&a, &b, &ca, &cb, ops);
	return 0;
}
