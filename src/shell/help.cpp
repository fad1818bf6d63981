#include "shell/help.hpp"

#include <ostream>
#include <sstream>

namespace autodisc::shell {

namespace {

std::string typeText(ParamType t) {
  switch (t) {
    case ParamType::String: return "<String>";
    case ParamType::List: return "<String[]>";
    case ParamType::Bool: return "<Boolean>";
    case ParamType::Switch: return "";
    case ParamType::Int: return "<Int32>";
  }
  return "";
}

std::string syntax(const Cmdlet& c) {
  std::string s = c.name;
  for (auto& p : c.params) {
    std::string one = "-" + p.name;
    if (p.position >= 0) one = "[" + one + "]";
    std::string t = typeText(p.type);
    if (!t.empty()) one += " " + t;
    s += " " + (p.mandatory ? one : "[" + one + "]");
  }
  return s;
}

}  // namespace

void printHelp(const Cmdlet& c, std::ostream& out) {
  out << "\nNAME\n    " << c.name << "\n\nSYNOPSIS\n    " << c.synopsis << "\n\nSYNTAX\n    " << syntax(c)
      << "\n\nPARAMETERS\n";
  for (auto& p : c.params) {
    out << "    -" << p.name << " " << typeText(p.type) << "\n        " << p.help << "\n        "
        << (p.mandatory ? "Required" : "Optional");
    if (p.position >= 0) out << "; position " << p.position;
    out << "\n";
  }
  if (!c.aliases.empty()) {
    out << "\nALIASES\n   ";
    for (auto& a : c.aliases) out << " " << a;
    out << "\n";
  }
  out << "\nEXAMPLE\n    " << c.example << "\n\n";
}

std::string cmdletReferenceMarkdown() {
  std::ostringstream md;
  md << "# Cmdlet reference\n\n"
        "Generated from the cmdlet tables by `autodisc docs cmdlets`; a test checks that this file matches.\n"
        "Names of cmdlets and parameters match without regard to case, and a parameter may be shortened to any\n"
        "unambiguous prefix. `-Identity` may be given by position. Every cmdlet's help is also in the shell:\n"
        "`Get-Help NAME`.\n\n";
  for (auto& c : cmdlets()) md << "- [" << c.name << "](#" << [&] {
      std::string a;
      for (char ch : c.name) a += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      return a;
    }() << ")\n";
  md << "\n";
  for (auto& c : cmdlets()) {
    md << "## " << c.name << "\n\n" << c.synopsis << "\n\n```\n" << syntax(c) << "\n```\n\n";
    if (!c.params.empty()) {
      md << "| Parameter | Type | Required | Position | Meaning |\n|---|---|---|---|---|\n";
      for (auto& p : c.params) {
        std::string t = typeText(p.type);
        md << "| -" << p.name << " | " << (t.empty() ? "switch" : t.substr(1, t.size() - 2)) << " | "
           << (p.mandatory ? "yes" : "no") << " | " << (p.position >= 0 ? std::to_string(p.position) : "") << " | "
           << p.help << " |\n";
      }
      md << "\n";
    }
    if (!c.aliases.empty()) {
      md << "Aliases:";
      for (auto& a : c.aliases) md << " `" << a << "`";
      md << "\n\n";
    }
    md << "Example:\n\n```powershell\n" << c.example << "\n```\n\n";
  }
  return md.str();
}

}  // namespace autodisc::shell
