// SPDX-License-Identifier: GPL-2.0
/* The flight recorder's OOM trigger: one raw tracepoint program on
 * oom:mark_victim, which the kernel fires when the OOM killer (global or
 * memory cgroup) has picked a victim and before the victim is gone. It
 * pushes one record into a ring buffer; the exporter wakes on it and
 * writes a capture (userspace/kernel/oom_watch.cpp).
 *
 * Kept apart from slableak.bpf.c: it is small, it loads even where the
 * slab programs do not matter, and it has no state but the ring.
 *
 * The tracepoint's arguments changed (read from the BTF of the Debian cloud
 * kernels): 5.10 passes `int pid`; 6.1 (Debian 6.1.176), 6.12 and 6.18 pass
 * `struct task_struct *task, uid_t uid` (upstream 6.8, "mm: update
 * mark_victim tracepoints fields", backported to 6.1.y), and the event
 * gained `__data_loc comm` with it. A raw tracepoint sees both as a u64:
 * whether the event struct has `__data_loc_comm` says which it is. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "oom_event.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16384); /* 200+ events; an OOM storm beyond that is counted in `lost` */
} oom_events SEC(".maps");

/* Events the ring had no room for; read by userspace. */
__u64 lost = 0;

/* The layout from 6.8 on (and the 6.1.y backport). */
struct trace_event_raw_mark_victim___task {
	__u32 __data_loc_comm;
} __attribute__((preserve_access_index));

SEC("raw_tp/mark_victim")
int on_mark_victim(struct bpf_raw_tracepoint_args *ctx)
{
	struct slk_oom_event *e = bpf_ringbuf_reserve(&oom_events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&lost, 1);
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->time_ns = bpf_ktime_get_ns();
	if (bpf_core_field_exists(struct trace_event_raw_mark_victim___task, __data_loc_comm)) {
		struct task_struct *task = (struct task_struct *)ctx->args[0];
		e->pid = BPF_CORE_READ(task, pid);
		BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
		e->cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
		/* The memory controller's cgroup (v1 or v2): where a memcg OOM
		 * happened. A kernel built without CONFIG_MEMCG has no
		 * memory_cgrp_id: the unguarded relocation would fail the load,
		 * and with it the OOM trigger, for want of a name. */
		if (bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id)) {
			const int memcg = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
			const int count = bpf_core_enum_value(enum cgroup_subsys_id, CGROUP_SUBSYS_COUNT);
			if (memcg >= 0 && memcg < count) {
				struct cgroup_subsys_state *css = BPF_CORE_READ(task, cgroups, subsys[memcg]);
				const char *name = BPF_CORE_READ(css, cgroup, kn, name);
				if (name)
					bpf_probe_read_kernel_str(e->memcg_name, sizeof(e->memcg_name), name);
			}
		}
		e->flags = SLK_OOM_VICTIM_TASK;
	} else {
		e->pid = (__s32)ctx->args[0];
	}
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
	return 0;
}
