#include "agg_map_reader.h"

#include <bpf/bpf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "error.h"

namespace slableak {

std::vector<AggRow> read_aggregate_map(int fd, uint64_t capacity, size_t expected_rows) {
  std::vector<AggRow> rows;
  rows.reserve(std::min<uint64_t>(capacity, expected_rows + expected_rows / 8 + 16));
  size_t chunk = 1024;
  std::vector<slk_agg_key> keys(chunk);
  std::vector<slk_agg_val> vals(chunk);
  bool batched = true;
  slk_agg_key out_batch{};
  void* in = nullptr;
  while (rows.size() < capacity) {
    uint32_t count = static_cast<uint32_t>(std::min<uint64_t>(chunk, capacity - rows.size()));
    const int err = bpf_map_lookup_batch(fd, in, &out_batch, keys.data(), vals.data(), &count, nullptr);
    const int e = errno;
    for (uint32_t i = 0; i < count; ++i) rows.push_back(AggRow{keys[i], vals[i]});
    if (err) {
      if (e == ENOENT) break;
      if (e == ENOSPC && count == 0 && chunk < capacity) {  // one hash bucket holds more than a chunk
        chunk *= 2;
        keys.resize(chunk);
        vals.resize(chunk);
        continue;
      }
      if (e == EINVAL || e == ENOTSUP || e == EOPNOTSUPP) batched = false;
      else throw runtime_error(std::string("reading the aggregate map failed: ") + std::strerror(e));
      break;
    }
    in = &out_batch;
  }
  if (batched) return rows;

  rows.clear();
  slk_agg_key k{}, next{};
  slk_agg_val v{};
  void* prev = nullptr;
  while (rows.size() < capacity && bpf_map_get_next_key(fd, prev, &next) == 0) {
    if (bpf_map_lookup_elem(fd, &next, &v) == 0) rows.push_back(AggRow{next, v});
    k = next;
    prev = &k;
  }
  return rows;
}

}  // namespace slableak
