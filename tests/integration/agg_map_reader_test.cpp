// read_aggregate_map() against a real kernel hash map of the aggregate
// layout: every row comes back once, across chunk boundaries, whatever the
// map's capacity.
#include <bpf/bpf.h>
#include <unistd.h>

#include <map>
#include <tuple>

#include "agg_map_reader.h"
#include "support.h"

namespace slableak {
namespace {

struct MapFd {
  int fd = -1;
  ~MapFd() {
    if (fd >= 0) close(fd);
  }
};

slk_agg_key key_of(uint32_t i) {
  slk_agg_key k{};
  k.epoch = 1000 + i % 7;
  k.stack_id = i;
  k.cache_idx = static_cast<uint16_t>(i % 3);
  k.epoch_shift = 30;
  return k;
}

void check_round_trip(uint32_t rows, uint32_t capacity) {
  MapFd m;
  m.fd = bpf_map_create(BPF_MAP_TYPE_HASH, "slk_test_aggs", sizeof(slk_agg_key), sizeof(slk_agg_val), capacity,
                        nullptr);
  ASSERT_GE(m.fd, 0) << "bpf_map_create: " << errno;
  for (uint32_t i = 0; i < rows; ++i) {
    const slk_agg_key k = key_of(i);
    slk_agg_val v{};
    v.objects = i;
    v.bytes = static_cast<int64_t>(i) * 2048;
    v.allocs = i + 5;
    v.frees = 5;
    ASSERT_EQ(bpf_map_update_elem(m.fd, &k, &v, BPF_NOEXIST), 0) << "row " << i;
  }
  const std::vector<AggRow> got = read_aggregate_map(m.fd, capacity, 0);
  ASSERT_EQ(got.size(), rows);
  std::map<uint32_t, AggRow> seen;
  for (const auto& r : got) {
    EXPECT_TRUE(seen.emplace(r.key.stack_id, r).second) << "stack " << r.key.stack_id << " read twice";
    const slk_agg_key want = key_of(r.key.stack_id);
    EXPECT_EQ(std::tie(r.key.epoch, r.key.cache_idx, r.key.epoch_shift),
              std::tie(want.epoch, want.cache_idx, want.epoch_shift));
    EXPECT_EQ(r.val.objects, static_cast<int64_t>(r.key.stack_id));
    EXPECT_EQ(r.val.bytes, static_cast<int64_t>(r.key.stack_id) * 2048);
    EXPECT_EQ(r.val.allocs, r.key.stack_id + 5u);
  }
  EXPECT_EQ(seen.size(), rows);
}

TEST(AggMapReader, EmptyMap) {
  REQUIRE_BPF();
  check_round_trip(0, 4096);
}

TEST(AggMapReader, ManyChunks) {
  REQUIRE_BPF();
  check_round_trip(40000, 65536);  // 10k stacks x 4 epochs, the benchmark's shape
}

TEST(AggMapReader, FullMapSmallerThanAChunk) {
  REQUIRE_BPF();
  check_round_trip(700, 700);
}

}  // namespace
}  // namespace slableak
