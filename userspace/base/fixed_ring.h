// A FIFO of at most capacity() elements in one allocation, oldest first.
//
// For history that slides through a time window: std::deque allocates
// 512-byte chunks plus a chunk map, so even three samples cost over half a
// KiB per series; a ring costs its elements and three counters, and pushing
// and popping in steady state never touches the allocator.
#pragma once
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace slableak {

template <typename T>
class FixedRing {
 public:
  FixedRing() = default;
  explicit FixedRing(size_t capacity) { reserve(capacity); }

  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  bool full() const { return size_ == capacity_; }

  // @i = 0 is the oldest element.
  const T& operator[](size_t i) const {
    assert(i < size_);
    return data_[wrap(head_ + i)];
  }
  const T& front() const { return (*this)[0]; }
  const T& back() const { return (*this)[size_ - 1]; }

  // Appends @v; when full, the oldest element is dropped to make room.
  void push_back(const T& v) {
    assert(capacity_ > 0);
    if (full()) pop_front();
    data_[wrap(head_ + size_)] = v;
    ++size_;
  }
  void pop_front() {
    assert(size_ > 0);
    head_ = wrap(head_ + 1);
    --size_;
  }
  // Reallocates to exactly @capacity (at least size()), elements kept in order.
  void reserve(size_t capacity) {
    assert(capacity >= size_ && capacity <= UINT32_MAX);
    if (capacity == capacity_) return;
    auto data = std::make_unique_for_overwrite<T[]>(capacity);
    for (size_t i = 0; i < size_; ++i) data[i] = (*this)[i];
    data_ = std::move(data);
    head_ = 0;
    capacity_ = static_cast<uint32_t>(capacity);
  }

 private:
  size_t wrap(size_t i) const { return i >= capacity_ ? i - capacity_ : i; }

  std::unique_ptr<T[]> data_;
  uint32_t head_ = 0, size_ = 0, capacity_ = 0;
};

}  // namespace slableak
