#pragma once
// An open-addressing hash index from a case-insensitive string key to a small integer entry.
// The keys are not stored: the owner supplies a function that reads an entry's key back, so an
// entry costs 8 bytes (at a load factor of at most one half, 16 bytes of table per entry).
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "model/cow_vector.hpp"
#include "model/text.hpp"

namespace autodisc::model {

class FlatIndex {
 public:
  using Entry = std::uint64_t;  // never 0, and below 2^40
  using KeyOf = std::function<std::string_view(Entry)>;

  explicit FlatIndex(KeyOf keyOf) : keyOf_(std::move(keyOf)) {}
  FlatIndex(const FlatIndex&) = default;
  FlatIndex& operator=(const FlatIndex&) = default;

  void setKeyOf(KeyOf keyOf) { keyOf_ = std::move(keyOf); }
  Entry find(std::string_view key) const;  // 0 if absent
  // Inserts; returns false (and changes nothing) when an entry with an equal key exists.
  bool insert(Entry e);
  void erase(Entry e);  // removes that exact entry, if present
  std::size_t size() const { return size_; }
  void reserve(std::size_t n);
  std::size_t memoryBytes() const { return slots_.capacity() * sizeof(Entry); }

 private:
  void grow(std::size_t minSlots);
  CowVector<Entry> slots_;  // shared with copies until written
  std::size_t size_ = 0;
  KeyOf keyOf_;
};

}  // namespace autodisc::model
