#pragma once
// One error vocabulary for the core: an error is a value with a message a person can act on.
#include <expected>
#include <string>
#include <utility>

namespace autodisc {

struct Error {
  std::string message;
};

template <class T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(std::string message) {
  return std::unexpected<Error>(Error{std::move(message)});
}

}  // namespace autodisc
