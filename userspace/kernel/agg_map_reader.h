// Reading the kernel's aggregate map, apart from the skeleton, so the
// refresh benchmark can time the same syscalls on a map of its own.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernel_read.h"

namespace slableak {

// Every row of the BPF hash map @fd (slk_agg_key -> slk_agg_val), at most
// @capacity. Batched in chunks of 1024 (memory follows the rows that exist,
// not the map's capacity), key by key on kernels without batch lookups for
// hash maps. @expected_rows sizes the result (the last read's count).
// Throws runtime_error on a read error.
std::vector<AggRow> read_aggregate_map(int fd, uint64_t capacity, size_t expected_rows);

}  // namespace slableak
