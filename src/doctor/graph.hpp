#pragma once
// `autodisc doctor --graph`: the topology as Graphviz DOT (pure): clients inside and outside, the
// DNS view each one asks, the names clients are handed, the servers and CAS arrays, the virtual
// directories, with the findings marked on what they are about.
#include <string>
#include <vector>

#include "doctor/checks.hpp"

namespace autodisc::doctor {

// The DOT text of a digraph. `in.resolve`, when set, adds each name's addresses in each view.
std::string topologyDot(const Input& in, const std::vector<Finding>& findings);

}  // namespace autodisc::doctor
