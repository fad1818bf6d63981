#include "cli/repl.hpp"

#include <histedit.h>

#include <cstdlib>
#include <iostream>

#include "model/text.hpp"

namespace autodisc::cli {

std::vector<std::pair<int, std::string>> scriptLines(const std::string& script) {
  std::vector<std::pair<int, std::string>> out;
  std::string pending;
  int startLine = 0, lineNo = 0;
  for (auto raw : text::split(script, '\n')) {
    ++lineNo;
    std::string line(raw);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (pending.empty()) startLine = lineNo;
    auto t = std::string(text::trim(line));
    if (!t.empty() && t.back() == '`') {
      pending += t.substr(0, t.size() - 1) + " ";
      continue;
    }
    if (!t.empty() && t.back() == '|' && t.front() != '#') {
      pending += t + " ";
      continue;
    }
    pending += line;
    out.emplace_back(startLine, pending);
    pending.clear();
  }
  if (!text::trim(pending).empty()) out.emplace_back(startLine, pending);
  return out;
}

int runScript(shell::Session& session, const std::string& script, const std::string& source, std::ostream& out,
              std::ostream& err) {
  for (auto& [lineNo, line] : scriptLines(script)) {
    if (text::trim(line).empty()) continue;
    auto r = session.run(line, out, err);
    if (!r) {
      out.flush();
      err << "autodisc: " << source << ":" << lineNo << ": " << r.error().message << '\n';
      err << "autodisc: stopped; later lines were not run\n";
      return 1;
    }
  }
  return 0;
}

namespace {
const char* prompt(EditLine*) { return "autodisc> "; }
}  // namespace

int runInteractive(shell::Session& session, const std::string& storeName) {
  EditLine* el = el_init("autodisc", stdin, stdout, stderr);
  History* hist = history_init();
  HistEvent ev;
  history(hist, &ev, H_SETSIZE, 1000);
  std::string histFile;
  if (const char* home = std::getenv("HOME")) {
    histFile = std::string(home) + "/.autodisc_history";
    history(hist, &ev, H_LOAD, histFile.c_str());
  }
  el_set(el, EL_PROMPT, prompt);
  el_set(el, EL_EDITOR, "emacs");
  el_set(el, EL_HIST, history, hist);
  std::cout << "autodisc shell on " << storeName << ". Get-Command lists the cmdlets; exit leaves.\n";
  for (;;) {
    int count = 0;
    const char* line = el_gets(el, &count);
    if (!line || count <= 0) break;
    std::string l(text::trim(line));
    if (l.empty()) continue;
    history(hist, &ev, H_ENTER, l.c_str());
    if (text::iequals(l, "exit") || text::iequals(l, "quit")) break;
    auto r = session.run(l, std::cout, std::cerr);
    if (!r) std::cerr << "error: " << r.error().message << '\n';
    std::cout.flush();
  }
  if (!histFile.empty()) history(hist, &ev, H_SAVE, histFile.c_str());
  history_end(hist);
  el_end(el);
  std::cout << '\n';
  return 0;
}

}  // namespace autodisc::cli
