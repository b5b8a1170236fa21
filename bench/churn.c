/* churn: one kmalloc + one kfree in a 2 KiB slab cache per operation
 * (msgsnd + msgrcv of 1500 bytes: load_msg allocates, free_msg frees), on
 * one pinned CPU. Prints "ns_per_op X ops N". Used by scripts/bench.sh.
 *   churn OPS [CPU] [BYTES]
 */
#define _GNU_SOURCE
#include <sched.h>
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

int main(int argc, char **argv)
{
	long ops = argc > 1 ? atol(argv[1]) : 200000;
	int cpu = argc > 2 ? atoi(argv[2]) : 1;
	int bytes = argc > 3 ? atoi(argv[3]) : 1500;
	static struct msg m;
	struct timespec a, b;
	cpu_set_t set;
	int q;

	if (ops <= 0 || bytes <= 0 || bytes > (int)sizeof(m.mtext)) {
		fprintf(stderr, "usage: churn OPS [CPU] [BYTES<=8192]\n");
		return 2;
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0)
		perror("sched_setaffinity (continuing unpinned)");
	q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	if (q < 0) {
		perror("msgget");
		return 1;
	}
	m.mtype = 1;
	memset(m.mtext, 'x', bytes);
	for (long i = 0; i < ops / 10 + 1000; i++) { /* warm up */
		msgsnd(q, &m, bytes, 0);
		msgrcv(q, &m, sizeof(m.mtext), 0, 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < ops; i++) {
		if (msgsnd(q, &m, bytes, 0) != 0 || msgrcv(q, &m, sizeof(m.mtext), 0, 0) < 0) {
			perror("msgsnd/msgrcv");
			msgctl(q, IPC_RMID, NULL);
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	msgctl(q, IPC_RMID, NULL);
	double ns = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
	printf("ns_per_op %.1f ops %ld\n", ns / ops, ops);
	return 0;
}
