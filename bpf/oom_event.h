/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The OOM watcher's event (bpf/oom_watch.bpf.c -> userspace/kernel/oom_watch.cpp).
 * Fixed-width fields; userspace static_asserts the size. */
#ifndef SLABLEAK_OOM_EVENT_H
#define SLABLEAK_OOM_EVENT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define SLK_OOM_COMM_LEN 16
#define SLK_OOM_CGROUP_NAME_LEN 64

/* flags */
#define SLK_OOM_VICTIM_TASK 1u /* comm and cgroup_id are the victim's (task pointer in the event) */

struct slk_oom_event {
	__u64 time_ns;   /* bpf_ktime_get_ns() when the victim was marked */
	__u64 cgroup_id; /* the victim's cgroup v2 id; 0 if unknown */
	__s32 pid;       /* the victim's thread id, as the tracepoint gives it */
	__u32 flags;
	char comm[SLK_OOM_COMM_LEN];
	/* The last component of the victim's memory cgroup path ("" for the
	 * root), read from the task while it is still whole: by the time
	 * userspace reads /proc/PID/cgroup the victim has often exited. */
	char memcg_name[SLK_OOM_CGROUP_NAME_LEN];
};

#endif
