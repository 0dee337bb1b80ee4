#pragma once
// What a fuzz target does when a property beyond "no crash" fails: print what and why, then abort, so
// libFuzzer keeps the input as a crash (crash-<sha1>) like any sanitizer report.
#include <cstdio>
#include <cstdlib>
#include <string>

namespace pice::fuzz {

[[noreturn]] inline void property_failed(const std::string& what) {
  std::fprintf(stderr, "PROPERTY FAILED: %s\n", what.c_str());
  std::abort();
}

inline void check(bool ok, const std::string& what) {
  if (!ok) property_failed(what);
}

}  // namespace pice::fuzz
