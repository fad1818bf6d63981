#include "model/flat_index.hpp"

namespace autodisc::model {

namespace {
// Entries use the low 40 bits; the top 24 bits of a slot keep part of the key's hash, so that a
// probe reads a key back (a cache miss into the recipient) only when the tags agree.
constexpr std::uint64_t kEntryMask = (std::uint64_t{1} << 40) - 1;
constexpr std::uint64_t tagOf(std::uint64_t hash) { return (hash >> 40) << 40; }
}  // namespace

FlatIndex::Entry FlatIndex::find(std::string_view key) const {
  if (slots_.empty()) return 0;
  std::size_t mask = slots_.size() - 1;
  std::uint64_t h = text::ihash(key);
  std::uint64_t tag = tagOf(h);
  for (std::size_t i = h & mask;; i = (i + 1) & mask) {
    Entry s = slots_[i];
    if (s == 0) return 0;
    if ((s & ~kEntryMask) == tag && text::iequals(keyOf_(s & kEntryMask), key)) return s & kEntryMask;
  }
}

bool FlatIndex::insert(Entry e) {
  if ((size_ + 1) * 2 > slots_.size()) grow(slots_.empty() ? 16 : slots_.size() * 2);
  auto key = keyOf_(e);
  std::uint64_t h = text::ihash(key);
  std::uint64_t tag = tagOf(h);
  std::size_t mask = slots_.size() - 1;
  for (std::size_t i = h & mask;; i = (i + 1) & mask) {
    if (slots_[i] == 0) {
      slots_.mut(i) = e | tag;
      ++size_;
      return true;
    }
    if ((slots_[i] & ~kEntryMask) == tag && text::iequals(keyOf_(slots_[i] & kEntryMask), key)) return false;
  }
}

void FlatIndex::erase(Entry e) {
  if (slots_.empty()) return;
  std::size_t mask = slots_.size() - 1;
  std::uint64_t h = text::ihash(keyOf_(e));
  std::size_t i = h & mask;
  for (;; i = (i + 1) & mask) {
    if (slots_[i] == 0) return;
    if ((slots_[i] & kEntryMask) == e) break;
  }
  // Backward-shift deletion keeps linear probing correct without tombstones.
  std::size_t hole = i;
  for (std::size_t j = (i + 1) & mask; slots_[j] != 0; j = (j + 1) & mask) {
    std::size_t home = text::ihash(keyOf_(slots_[j] & kEntryMask)) & mask;
    bool movable = (hole <= j) ? (home <= hole || home > j) : (home <= hole && home > j);
    if (movable) {
      slots_.mut(hole) = slots_[j];
      hole = j;
    }
  }
  slots_.mut(hole) = 0;
  --size_;
}

void FlatIndex::reserve(std::size_t n) {
  std::size_t want = 16;
  while (want < n * 2) want *= 2;
  if (want > slots_.size()) grow(want);
}

void FlatIndex::grow(std::size_t minSlots) {
  std::size_t n = 16;
  while (n < minSlots) n *= 2;
  CowVector<Entry> old = std::move(slots_);
  slots_ = CowVector<Entry>();
  slots_.assign(n, 0);
  std::size_t mask = n - 1;
  old.forEach([&](Entry s) {
    if (s == 0) return;
    std::size_t i = text::ihash(keyOf_(s & kEntryMask)) & mask;
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_.mut(i) = s;
  });
}

}  // namespace autodisc::model
