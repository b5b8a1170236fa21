// A view of a window of a BPF_F_MMAPABLE array map's values, read-only
// unless asked, unmapped with the object. Reading the live table this way costs no
// syscall per entry; mapping it a window at a time keeps the pages it
// maps (the kernel maps them all at mmap time, and they count in VmRSS)
// to a few MiB however large the table.
#pragma once
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "error.h"

namespace slableak {

class MapView {
 public:
  MapView() = default;
  // Values @first .. @first + @count of @value_size bytes (the kernel pads
  // each to 8); @first * padded size must be a multiple of the page size.
  // @writable: for freeing the aggregate table's slots (agg_slots.h).
  MapView(int map_fd, size_t first, size_t count, size_t value_size, bool writable = false) {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const size_t elem = (value_size + 7) & ~size_t{7};
    len_ = (count * elem + page - 1) / page * page;
    void* p = mmap(nullptr, len_, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, map_fd,
                   static_cast<off_t>(first * elem));
    if (p == MAP_FAILED)
      throw runtime_error(std::string("cannot map a kernel table: ") + std::strerror(errno));
    data_ = p;
  }
  ~MapView() {
    if (data_) munmap(const_cast<void*>(data_), len_);
  }
  MapView(MapView&& o) noexcept : data_(o.data_), len_(o.len_) { o.data_ = nullptr; }
  MapView& operator=(MapView&& o) noexcept {
    if (this != &o) {
      if (data_) munmap(const_cast<void*>(data_), len_);
      data_ = o.data_;
      len_ = o.len_;
      o.data_ = nullptr;
    }
    return *this;
  }
  MapView(const MapView&) = delete;
  MapView& operator=(const MapView&) = delete;

  template <typename T>
  const T* as() const { return static_cast<const T*>(data_); }
  // Only on a view made writable.
  template <typename T>
  T* as_mut() const { return static_cast<T*>(const_cast<void*>(data_)); }
  explicit operator bool() const { return data_ != nullptr; }

 private:
  const void* data_ = nullptr;
  size_t len_ = 0;
};

}  // namespace slableak
