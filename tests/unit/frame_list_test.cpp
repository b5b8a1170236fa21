#include "frame_list.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

using namespace slableak;

namespace {

// Counts how often text is made: reading must be lazy.
class CountingSource final : public FrameSource {
 public:
  explicit CountingSource(size_t n) : n_(n) {}
  size_t size() const override { return n_; }
  std::string text(size_t i, Form form) const override {
    ++calls;
    return (form == Form::frame ? "fn" + std::to_string(i) + "+0x" + std::to_string(i) : "fn" + std::to_string(i));
  }
  mutable int calls = 0;

 private:
  size_t n_;
};

}  // namespace

TEST(FrameList, LiteralBehavesLikeTheVector) {
  const std::vector<std::string> v = {"load_msg+0x5a", "do_msgsnd+0xa1", "do_syscall_64+0x1"};
  const FrameList f = v;
  EXPECT_EQ(f.size(), 3u);
  EXPECT_FALSE(f.empty());
  EXPECT_EQ(f[1], "do_msgsnd+0xa1");
  EXPECT_EQ(f.front(), "load_msg+0x5a");
  EXPECT_EQ(f.back(), "do_syscall_64+0x1");
  EXPECT_EQ(f.to_vector(), v);
  EXPECT_EQ(f, v);
  EXPECT_EQ(v, f);
  EXPECT_NE(f, (std::vector<std::string>{"load_msg+0x5a", "do_msgsnd+0xa1"}));
  EXPECT_NE(f, (std::vector<std::string>{"load_msg+0x5a", "do_msgsnd+0xa2", "do_syscall_64+0x1"}));

  std::vector<std::string> forward(f.begin(), f.end());
  EXPECT_EQ(forward, v);
  std::vector<std::string> backward(f.rbegin(), f.rend());
  EXPECT_EQ(backward, (std::vector<std::string>{"do_syscall_64+0x1", "do_msgsnd+0xa1", "load_msg+0x5a"}));
  std::string joined;
  for (const auto& s : f) joined += s + ";";
  EXPECT_EQ(joined, "load_msg+0x5a;do_msgsnd+0xa1;do_syscall_64+0x1;");
  EXPECT_TRUE(std::any_of(f.begin(), f.end(), [](const std::string& s) { return s.rfind("do_msgsnd+", 0) == 0; }));
  EXPECT_EQ(f.end() - f.begin(), 3);
}

TEST(FrameList, EmptyLists) {
  const FrameList none;
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(none.begin(), none.end());
  EXPECT_EQ(none, std::vector<std::string>{});
  EXPECT_EQ(none, FrameList(std::vector<std::string>{}));
  EXPECT_NE(none, FrameList(std::vector<std::string>{"x"}));
}

TEST(FrameList, SourceIsSharedAndReadLazily) {
  auto src = std::make_shared<CountingSource>(3);
  const FrameList frames(src, FrameList::Form::frame);
  const FrameList functions(src, FrameList::Form::function);
  EXPECT_EQ(src->calls, 0);  // nothing rendered until read
  EXPECT_EQ(frames.size(), 3u);
  EXPECT_EQ(src->calls, 0);
  EXPECT_EQ(frames[2], "fn2+0x2");
  EXPECT_EQ(functions[2], "fn2");
  EXPECT_EQ(src->calls, 2);

  const FrameList copy = frames;  // a copy shares the source
  EXPECT_EQ(src.use_count(), 4);
  EXPECT_EQ(copy, (std::vector<std::string>{"fn0+0x0", "fn1+0x1", "fn2+0x2"}));
  EXPECT_NE(frames, functions);
  EXPECT_EQ(functions, (std::vector<std::string>{"fn0", "fn1", "fn2"}));
}
