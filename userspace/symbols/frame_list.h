// The frames of one stack as every report reads them: a read-only list of
// strings, innermost first, that is stored compactly and rendered on access.
//
// Why not std::vector<std::string>: the exporter keeps every stack it has
// seen (10,000+ with a dozen frames each) but shows about 20 per cache. One
// string per frame, twice (with and without offset), plus a copy per refresh
// into every report row, was most of its memory. A FrameList shares one
// immutable FrameSource between the symbolizer's cache and every report row
// (copying it copies a pointer) and makes a frame's text when it is read.
#pragma once
#include <compare>
#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

namespace slableak {

// Where a FrameList's text comes from. Immutable once built.
class FrameSource {
 public:
  enum class Form {
    frame,     // "fn+0x1a [mod]"
    function,  // "fn [mod]": the same frame without its offset
  };
  virtual ~FrameSource() = default;
  virtual size_t size() const = 0;
  virtual std::string text(size_t i, Form form) const = 0;
};

class FrameList {
 public:
  using Form = FrameSource::Form;

  // Random access over frames made on the fly: dereferencing yields a
  // std::string by value, so it is only an input iterator by the legacy
  // rules (enough for range-for, std algorithms and reverse iteration).
  class const_iterator {
   public:
    using value_type = std::string;
    using reference = std::string;
    using pointer = void;
    using difference_type = std::ptrdiff_t;
    using iterator_category = std::input_iterator_tag;
    using iterator_concept = std::random_access_iterator_tag;

    const_iterator() = default;
    const_iterator(const FrameList* list, size_t i) : list_(list), i_(i) {}
    std::string operator*() const { return (*list_)[i_]; }
    std::string operator[](difference_type n) const { return (*list_)[i_ + static_cast<size_t>(n)]; }
    const_iterator& operator++() { ++i_; return *this; }
    const_iterator operator++(int) { auto t = *this; ++i_; return t; }
    const_iterator& operator--() { --i_; return *this; }
    const_iterator operator--(int) { auto t = *this; --i_; return t; }
    const_iterator& operator+=(difference_type n) { i_ += static_cast<size_t>(n); return *this; }
    const_iterator& operator-=(difference_type n) { i_ -= static_cast<size_t>(n); return *this; }
    friend const_iterator operator+(const_iterator a, difference_type n) { return a += n; }
    friend const_iterator operator+(difference_type n, const_iterator a) { return a += n; }
    friend const_iterator operator-(const_iterator a, difference_type n) { return a -= n; }
    friend difference_type operator-(const const_iterator& a, const const_iterator& b) {
      return static_cast<difference_type>(a.i_) - static_cast<difference_type>(b.i_);
    }
    friend bool operator==(const const_iterator& a, const const_iterator& b) { return a.i_ == b.i_; }
    friend auto operator<=>(const const_iterator& a, const const_iterator& b) { return a.i_ <=> b.i_; }

   private:
    const FrameList* list_ = nullptr;
    size_t i_ = 0;
  };
  using iterator = const_iterator;
  using const_reverse_iterator = std::reverse_iterator<const_iterator>;
  using value_type = std::string;
  using size_type = size_t;

  FrameList() = default;
  // Literal frames (placeholders such as "[stack unavailable]", tests):
  // the strings are kept as given, whatever the form.
  FrameList(std::vector<std::string> literal);
  FrameList(std::initializer_list<std::string> literal) : FrameList(std::vector<std::string>(literal)) {}
  FrameList(std::shared_ptr<const FrameSource> source, Form form) : source_(std::move(source)), form_(form) {}

  size_t size() const { return source_ ? source_->size() : 0; }
  bool empty() const { return size() == 0; }
  std::string operator[](size_t i) const { return source_->text(i, form_); }
  std::string front() const { return (*this)[0]; }
  std::string back() const { return (*this)[size() - 1]; }
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, size()}; }
  const_reverse_iterator rbegin() const { return const_reverse_iterator(end()); }
  const_reverse_iterator rend() const { return const_reverse_iterator(begin()); }
  std::vector<std::string> to_vector() const;

  friend bool operator==(const FrameList& a, const FrameList& b);
  friend bool operator==(const FrameList& a, const std::vector<std::string>& b);

 private:
  std::shared_ptr<const FrameSource> source_;
  Form form_ = Form::frame;
};

}  // namespace slableak
