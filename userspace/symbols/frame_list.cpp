#include "frame_list.h"

namespace slableak {
namespace {

class LiteralFrames final : public FrameSource {
 public:
  explicit LiteralFrames(std::vector<std::string> frames) : frames_(std::move(frames)) {}
  size_t size() const override { return frames_.size(); }
  std::string text(size_t i, Form) const override { return frames_[i]; }

 private:
  std::vector<std::string> frames_;
};

template <typename List>
bool same_text(const FrameList& a, const List& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) return false;
  return true;
}

}  // namespace

FrameList::FrameList(std::vector<std::string> literal)
    : source_(literal.empty() ? nullptr : std::make_shared<const LiteralFrames>(std::move(literal))) {}

std::vector<std::string> FrameList::to_vector() const {
  std::vector<std::string> out;
  out.reserve(size());
  for (size_t i = 0; i < size(); ++i) out.push_back((*this)[i]);
  return out;
}

bool operator==(const FrameList& a, const FrameList& b) { return same_text(a, b); }
bool operator==(const FrameList& a, const std::vector<std::string>& b) { return same_text(a, b); }

}  // namespace slableak
