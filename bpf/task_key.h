/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* --by comm|pid|cgroup: who allocated, as one byte of the live value and of
 * the aggregate key. A task (as --by sees it) gets a slot the first time it
 * allocates a tracked object, 1 .. by_limit in that order; later tasks share
 * slot 0, "other". Slots are never reused within a run, so a slot names one
 * task for the whole report.
 *
 * Why a slot and not the id itself in the key: the id (a tgid, a 64-bit
 * cgroup id, a 16-byte comm) would grow every live-map entry, which is paid
 * per tracked object (docs/performance.md), also with --by off. The byte
 * was padding.
 *
 * Slots are claimed without an atomic fetch-add (not on 5.10's BPF): a slot
 * is taken by inserting it into slot_owner with BPF_NOEXIST, which succeeds
 * for one CPU only; the hint below only saves probes. Two CPUs racing for
 * one new task may each claim a slot; the loser's stays unused (a hole).
 * Self-contained: include after vmlinux.h and the libbpf helpers. */
#ifndef SLABLEAK_TASK_KEY_H
#define SLABLEAK_TASK_KEY_H

#include "slableak.h"

/* Off (SLK_BY_NONE): the verifier drops everything below. */
const volatile __u32 by_mode = SLK_BY_NONE;
const volatile __u32 by_limit = 0; /* slots 1 .. by_limit, at most SLK_MAX_TASK_SLOTS */

/* task -> slot */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SLK_MAX_TASK_SLOTS);
	__type(key, struct slk_task_key);
	__type(value, __u32);
} task_slots SEC(".maps");

/* slot -> task: claimed slots (the claim itself) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SLK_MAX_TASK_SLOTS);
	__type(key, __u32);
	__type(value, struct slk_task_key);
} slot_owner SEC(".maps");

__u32 task_slot_hint = 1; /* the next slot likely free */
__u32 task_slots_full = 0; /* every slot claimed: new tasks are "other" at once */

static __always_inline __u8 task_slot_of_current(void)
{
	struct slk_task_key k = {};
	__u32 *found, n;
	int i;

	if (by_mode == SLK_BY_NONE)
		return 0;
	if (by_mode == SLK_BY_CGROUP) {
		k.id = bpf_get_current_cgroup_id();
	} else {
		if (by_mode == SLK_BY_PID)
			k.id = bpf_get_current_pid_tgid() >> 32;
		bpf_get_current_comm(k.comm, sizeof(k.comm));
	}
	found = bpf_map_lookup_elem(&task_slots, &k);
	if (found)
		return (__u8)*found;
	if (task_slots_full)
		return 0;
	n = task_slot_hint;
	for (i = 0; i < SLK_MAX_TASK_SLOTS; i++, n++) {
		if (n < 1 || n > by_limit || n > SLK_MAX_TASK_SLOTS) {
			task_slots_full = 1;
			return 0;
		}
		if (bpf_map_update_elem(&slot_owner, &n, &k, BPF_NOEXIST) == 0)
			break;
	}
	if (i == SLK_MAX_TASK_SLOTS)
		return 0;
	task_slot_hint = n + 1;
	if (bpf_map_update_elem(&task_slots, &k, &n, BPF_NOEXIST)) {
		/* Another CPU gave this task a slot meanwhile: use that one. */
		found = bpf_map_lookup_elem(&task_slots, &k);
		return found ? (__u8)*found : 0;
	}
	return (__u8)n;
}

#endif
