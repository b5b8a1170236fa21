// --by: the name shown for each task slot (bpf/task_key.h), unique by
// construction. Every output keys a row by (cache, stack, task name), and
// Prometheus by its label set, so two slots shown alike would be two series
// with one label set (node_exporter drops one: those objects vanish). Names
// can meet: a process may call itself "other" (slot 0's name, the tasks past
// --by-limit), escaping maps a literal "\x01" and the byte 0x01 alike,
// cgroup paths are cut at 200 characters, and "task#N" is a comm too.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace slableak {

// The name of each slot in @slots: @names' (slot 0 is always "other"; a
// slot without a name is "task#N"). Slots are taken in ascending order, so
// that a name once shown keeps it as slots are added; a name already taken
// gets " #N" (N the slot) appended, again if that too is taken.
std::unordered_map<uint8_t, std::string> unique_task_labels(const std::unordered_map<uint8_t, std::string>& names,
                                                            const std::vector<uint8_t>& slots);

}  // namespace slableak
