/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* `slableak run --only-command`: count only allocations made by one process
 * tree. Userspace puts the command's pid into task_filter before the
 * command execs; the fork program adds every child of an allowed process
 * and the exit program removes a process when its last thread exits, so the
 * map holds the live tree only.
 *
 * Keyed by tgid (a process), not by cgroup: it needs no cgroup of our own
 * and no write access to cgroupfs, and a fork is seen before the child
 * runs, so nothing the tree allocates slips through.
 * Self-contained: include after vmlinux.h and the libbpf helpers. */
#ifndef SLABLEAK_TASK_FILTER_H
#define SLABLEAK_TASK_FILTER_H

#define SLK_MAX_FILTERED_TASKS 8192

/* Off: every task counts, and the verifier drops the check. */
const volatile bool filter_tasks = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SLK_MAX_FILTERED_TASKS);
	__type(key, __u32);  /* tgid */
	__type(value, __u8);
} task_filter SEC(".maps");

/* Children of the tree that could not be added (map full): their
 * allocations are not counted, and the report says how many there were. */
__u64 task_filter_full = 0;

static __always_inline bool task_allowed(void)
{
	__u32 tgid;

	if (!filter_tasks)
		return true;
	tgid = bpf_get_current_pid_tgid() >> 32;
	return bpf_map_lookup_elem(&task_filter, &tgid) != NULL;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(task_filter_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid), ctgid = BPF_CORE_READ(child, tgid);
	__u8 one = 1;

	/* A new thread (same tgid) is already in; a new process is added. */
	if (ptgid == ctgid || !bpf_map_lookup_elem(&task_filter, &ptgid))
		return 0;
	if (bpf_map_update_elem(&task_filter, &ctgid, &one, BPF_ANY))
		__sync_fetch_and_add(&task_filter_full, 1);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(task_filter_exit, struct task_struct *p)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);

	/* The process leaves with its last thread, not with its leader: the
	 * leader may pthread_exit() while other threads go on allocating.
	 * do_exit() counts the thread out of signal->live before it fires
	 * this tracepoint, so 0 here means the whole group is dead. */
	if (BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	bpf_map_delete_elem(&task_filter, &tgid);
	return 0;
}

#endif
