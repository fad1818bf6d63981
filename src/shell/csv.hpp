#pragma once
// CSV as Export-Csv writes it and Import-Csv reads it (RFC 4180 quoting; an optional #TYPE line).
#include <string_view>
#include <vector>

#include "model/error.hpp"
#include "shell/cmdlets.hpp"

namespace autodisc::shell {

Result<std::vector<Record>> parseCsv(std::string_view data, char delimiter = ',');

}  // namespace autodisc::shell
