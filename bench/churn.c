/* churn: one kmalloc + one kfree in a 2 KiB slab cache per operation, on
 * one pinned CPU. Prints "ns_per_op X ops N cpu_ns_per_op Y": wall time
 * and this thread's CPU time (user + system, which includes the BPF
 * programs run in its syscalls) per op. On a busy machine the CPU time
 * figure leaves out the time other tasks held the CPU. Used by
 * scripts/slk-lab bench.
 *   churn OPS [CPU] [BYTES] [msg|udp]
 * msg (default): msgsnd + msgrcv of BYTES (load_msg allocates, free_msg
 *   frees): msg_msg-2k on 6.11+.
 * udp: send + recv of a BYTES datagram on a loopback UDP socket connected
 *   to itself: the skb head (kmalloc-2k at 1500 bytes) is allocated in
 *   sendmsg, queued through the loopback softirq and freed in recvmsg, with
 *   the skb itself in skbuff_head_cache: the network workload.
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
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/ipc.h>
#include <sys/socket.h>
#include <unistd.h>
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

static int q = -1, sock = -1; /* the queue (msg) or the socket (udp) */

/* One allocation and its free. */
static int one_op(struct msg *m, int bytes)
{
	if (sock >= 0)
		return send(sock, m->mtext, bytes, 0) == bytes && recv(sock, m->mtext, sizeof(m->mtext), 0) == bytes
			       ? 0
			       : -1;
	return msgsnd(q, m, bytes, 0) != 0 || msgrcv(q, m, sizeof(m->mtext), 0, 0) < 0 ? -1 : 0;
}

/* A UDP socket on 127.0.0.1 connected to itself. */
static int udp_self(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(s, (struct sockaddr *)&a, &len) != 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) != 0) {
		perror("udp socket on 127.0.0.1");
		return -1;
	}
	return s;
}

static void done_with(void)
{
	if (q >= 0)
		msgctl(q, IPC_RMID, NULL);
	if (sock >= 0)
		close(sock);
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
	const char *workload = argc > 4 ? argv[4] : "msg";
	struct timespec a, b, ca, cb;
	cpu_set_t set;

	if (ops < 0 || bytes <= 0 || bytes > (int)sizeof(m.mtext) ||
	    (strcmp(workload, "msg") != 0 && strcmp(workload, "udp") != 0)) {
		fprintf(stderr, "usage: churn OPS [CPU] [BYTES<=8192] [msg|udp]\n");
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
	if (strcmp(workload, "udp") == 0) {
		sock = udp_self();
		if (sock < 0)
			return 1;
	} else {
		q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
		if (q < 0) {
			perror("msgget");
			return 1;
		}
	}
	m.mtype = 1;
	memset(m.mtext, 'x', bytes);
	for (long i = 0; i < (ops ? ops / 10 : 0) + 1000; i++) /* warm up */
		one_op(&m, bytes);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ca);
	clock_gettime(CLOCK_MONOTONIC, &a);
	if (ops == 0) {
		long done = 0;

		while (!stop) {
			if (one_op(&m, bytes) != 0) {
				if (errno == EINTR)
					continue;
				perror(workload);
				done_with();
				return 1;
			}
			done++;
		}
		clock_gettime(CLOCK_MONOTONIC, &b);
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cb);
		done_with();
		report(&a, &b, &ca, &cb, done);
		return 0;
	}
	for (long i = 0; i < ops; i++) {
		if (one_op(&m, bytes) != 0) {
			perror(workload);
			done_with();
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cb);
	done_with();
	report(&a, &b, &ca, &cb, ops);
	return 0;
}
