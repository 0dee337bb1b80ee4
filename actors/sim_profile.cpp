#include "actors/sim_profile.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "actors/labelled_csv.hpp"

namespace pice::actors {
namespace {

// The engine table of docs/BENCHMARKS.md ("Engine: threads, several-rows kernels, batched decode"),
// measured 2026-11-22 with `bench/engine_table --clock cpu` on this 2-core machine under load: prefill is
// the 128-token prompt column, decode the batched column (aggregate tokens/s of 1-16 sequences).
constexpr std::string_view kDefaultProfile = R"(model,threads,phase,batch,tokens_per_s
# Measured: docs/BENCHMARKS.md, engine table (engine_table --clock cpu), prefill 128 and batched 1-16.
edge-135m:q8_0,1,prefill,1,170
edge-135m:q8_0,1,decode,1,46.2
edge-135m:q8_0,1,decode,2,73.7
edge-135m:q8_0,1,decode,4,92.5
edge-135m:q8_0,1,decode,8,102.9
edge-135m:q8_0,1,decode,16,103.5
edge-135m:q8_0,2,prefill,1,312
edge-135m:q8_0,2,decode,1,57.6
edge-135m:q8_0,2,decode,2,78.9
edge-135m:q8_0,2,decode,4,126.3
edge-135m:q8_0,2,decode,8,169.3
edge-135m:q8_0,2,decode,16,199.4
edge-135m:f16,1,prefill,1,121
edge-135m:f16,1,decode,1,33.4
edge-135m:f16,1,decode,2,54.6
edge-135m:f16,1,decode,4,79.7
edge-135m:f16,1,decode,8,107.8
edge-135m:f16,1,decode,16,113.7
edge-135m:q4_0,1,prefill,1,99
edge-135m:q4_0,1,decode,1,52.4
edge-135m:q4_0,1,decode,2,65.1
edge-135m:q4_0,1,decode,4,69.9
edge-135m:q4_0,1,decode,8,73.9
edge-135m:q4_0,1,decode,16,68.3
edge-0.5b:q8_0,1,prefill,1,48
edge-0.5b:q8_0,1,decode,1,13.1
edge-0.5b:q8_0,1,decode,2,22.0
edge-0.5b:q8_0,1,decode,4,30.7
edge-0.5b:q8_0,1,decode,8,36.6
edge-0.5b:q8_0,1,decode,16,36.6
edge-0.5b:q8_0,2,prefill,1,105
edge-0.5b:q8_0,2,decode,1,19.2
edge-0.5b:q8_0,2,decode,2,35.6
edge-0.5b:q8_0,2,decode,4,50.4
edge-0.5b:q8_0,2,decode,8,65.6
edge-0.5b:q8_0,2,decode,16,69.9
# Measured for this profile 2026-11-22 09:10-09:35 UTC, same machine and load, one pass:
#   engine_table --models cloud-1.5b:q4_0,cloud-1.5b:q8_0 --threads 1 --clock cpu --cases prefill,decode --passes 1
# The cloud worker serves one job at a time, so only batch 1 matters for it.
cloud-1.5b:q4_0,1,prefill,1,9
cloud-1.5b:q4_0,1,decode,1,4.7
cloud-1.5b:q8_0,1,prefill,1,14
cloud-1.5b:q8_0,1,decode,1,4.6
)";

double parse_number(const std::string& field, std::string_view source, size_t line, const char* name) {
  double value = 0;
  const char* end = field.data() + field.size();
  auto [ptr, ec] = std::from_chars(field.data(), end, value);
  if (ec != std::errc() || ptr != end || !std::isfinite(value))
    throw ProfileError(std::string(source) + ":" + std::to_string(line) + ": " + name + " must be a number, not '" +
                       field + "'");
  return value;
}

std::string key(const std::string& model, int threads) { return model + "/" + std::to_string(threads); }

}  // namespace

double EngineProfile::decode_rate(int batch) const {
  auto above = decode_tps.lower_bound(batch);
  if (above == decode_tps.end()) return decode_tps.rbegin()->second;
  if (above->first == batch || above == decode_tps.begin()) return above->second;
  auto below = std::prev(above);
  const double t = static_cast<double>(batch - below->first) / (above->first - below->first);
  return below->second + t * (above->second - below->second);
}

const EngineProfile& ProfileTable::get(const std::string& model, int threads) const {
  auto it = profiles_.find(key(model, threads));
  if (it != profiles_.end()) return it->second;
  std::string known;
  for (const auto& [name, profile] : profiles_) known += (known.empty() ? "" : ", ") + name;
  throw ProfileError("no engine profile for '" + key(model, threads) + "' (model/threads); the table has: " + known);
}

EngineProfile& ProfileTable::entry(const std::string& model, int threads) {
  EngineProfile& p = profiles_[key(model, threads)];
  p.name = key(model, threads);
  return p;
}

ProfileTable parse_profile_csv(std::string_view text, std::string_view source) {
  ProfileTable table;
  bool header = false;
  try {
    for (const CsvRecord& r : parse_csv(text, ',', source)) {
      auto where = [&] { return std::string(source) + ":" + std::to_string(r.line) + ": "; };
      if (!r.fields.empty() && !r.fields[0].empty() && r.fields[0][0] == '#') continue;
      if (!header) {
        if (r.fields != std::vector<std::string>{"model", "threads", "phase", "batch", "tokens_per_s"})
          throw ProfileError(where() + "the header must be model,threads,phase,batch,tokens_per_s");
        header = true;
        continue;
      }
      if (r.fields.size() != 5)
        throw ProfileError(where() + "expected 5 fields, found " + std::to_string(r.fields.size()));
      const std::string& model = r.fields[0];
      if (model.empty()) throw ProfileError(where() + "model is empty");
      const double threads = parse_number(r.fields[1], source, r.line, "threads");
      const double batch = parse_number(r.fields[3], source, r.line, "batch");
      const double tps = parse_number(r.fields[4], source, r.line, "tokens_per_s");
      if (threads < 1 || threads != std::floor(threads))
        throw ProfileError(where() + "threads must be a whole number >= 1, not '" + r.fields[1] + "'");
      if (batch < 1 || batch > 4096 || batch != std::floor(batch))
        throw ProfileError(where() + "batch must be a whole number in 1..4096, not '" + r.fields[3] + "'");
      if (tps <= 0) throw ProfileError(where() + "tokens_per_s must be above 0, not '" + r.fields[4] + "'");
      EngineProfile& p = table.entry(model, static_cast<int>(threads));
      if (r.fields[2] == "prefill") p.prefill_tps = tps;
      else if (r.fields[2] == "decode") p.decode_tps[static_cast<int>(batch)] = tps;
      else throw ProfileError(where() + "phase must be prefill or decode, not '" + r.fields[2] + "'");
    }
  } catch (const CsvError& e) {
    throw ProfileError(e.what());
  }
  if (!header) throw ProfileError(std::string(source) + ": no header line (model,threads,phase,batch,tokens_per_s)");
  for (const auto& [name, p] : table.profiles()) {
    if (p.prefill_tps <= 0) throw ProfileError(std::string(source) + ": profile '" + name + "' has no prefill row");
    if (!p.decode_tps.count(1))
      throw ProfileError(std::string(source) + ": profile '" + name + "' has no decode row for batch 1");
  }
  return table;
}

ProfileTable read_profile_csv(const std::filesystem::path& path) {
  std::string text;
  try {
    text = read_text_file(path);
  } catch (const CsvError& e) {
    throw ProfileError(e.what());
  }
  return parse_profile_csv(text, path.string());
}

std::string_view default_profile_csv() { return kDefaultProfile; }

const ProfileTable& default_profile() {
  static const ProfileTable table = parse_profile_csv(kDefaultProfile, "the built-in profile");
  return table;
}

}  // namespace pice::actors
