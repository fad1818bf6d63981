#pragma once
// A vector kept in fixed-size chunks that copies share until one of them writes: copying one of a
// million elements costs a few hundred pointer copies, and a write then copies only its own chunk.
// A new snapshot made from the current one for a single change is cheap this way.
//
// Reading (operator[], forEach) never copies. Writing (mut, resize, assign) is for the one copy that
// is being changed: a chunk that another copy still holds is copied before the write. Copies may be
// read from many threads at once; one copy must not be written while it is being copied.
#include <cstddef>
#include <memory>
#include <vector>

namespace autodisc::model {

template <class T, unsigned kBits = 12>
class CowVector {
 public:
  static constexpr std::size_t kChunkSize = std::size_t{1} << kBits;

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const T& operator[](std::size_t i) const {
    const auto& c = chunks_[i >> kBits];
    return c ? c->items[i & kMask] : blank();  // a chunk never written reads as value-initialised
  }

  // The element for writing: its chunk is made this copy's own first.
  T& mut(std::size_t i) { return own(i >> kBits).items[i & kMask]; }

  // Grows (new elements value-initialised) or shrinks.
  void resize(std::size_t n) {
    std::size_t chunks = (n + kChunkSize - 1) >> kBits;
    if (chunks < chunks_.size()) chunks_.resize(chunks);
    // A kept last chunk gets value-initialised tails beyond the new size when it shrinks.
    if (n < size_ && (n & kMask) != 0)
      for (std::size_t i = n; i < std::min(size_, chunks * kChunkSize); ++i) mut(i) = T{};
    chunks_.resize(chunks);  // new chunks are made when first written: a sparse vector costs little
    size_ = n;
  }
  // n copies of `value`, as std::vector::assign.
  void assign(std::size_t n, const T& value) {
    chunks_.clear();
    size_ = 0;
    resize(n);
    if (value != T{})
      for (std::size_t i = 0; i < n; ++i) mut(i) = value;
  }
  void reserve(std::size_t n) { chunks_.reserve((n + kChunkSize - 1) >> kBits); }
  std::size_t capacity() const { return chunks_.size() * kChunkSize; }

  template <class F> void forEach(F&& f) const {
    for (std::size_t i = 0; i < size_; ++i) f((*this)[i]);
  }

 private:
  static constexpr std::size_t kMask = kChunkSize - 1;
  struct Chunk {
    T items[kChunkSize] = {};
  };
  Chunk& own(std::size_t c) {
    auto& p = chunks_[c];
    if (!p) p = std::make_shared<Chunk>();
    else if (p.use_count() > 1) p = std::make_shared<Chunk>(*p);
    return *p;
  }
  static const T& blank() {
    static const T value{};
    return value;
  }
  std::vector<std::shared_ptr<Chunk>> chunks_;
  std::size_t size_ = 0;
};

}  // namespace autodisc::model
