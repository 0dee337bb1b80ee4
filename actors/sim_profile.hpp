#pragma once
// Engine timing profiles for the simulator (`pice sim`): how fast a model prefills a prompt and how many
// tokens per second a batch of n sequences decodes, per model and thread count, as bench/engine_table
// measures them. Read from a small CSV file:
//
//   model,threads,phase,batch,tokens_per_s
//   edge-135m:q8_0,1,prefill,1,170
//   edge-135m:q8_0,1,decode,1,46.2
//   edge-135m:q8_0,1,decode,8,102.9
//
// `prefill` rows give prompt tokens/s (batch 1); `decode` rows the aggregate tokens/s of a batch of that
// many sequences. Lines whose first field starts with '#' are comments.
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pice::actors {

// A malformed profile; what() names the source, the line and the field.
class ProfileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct EngineProfile {
  std::string name;                   // "model/threads", e.g. "edge-135m:q8_0/1"
  double prefill_tps = 0;             // prompt tokens per second
  std::map<int, double> decode_tps;   // batch size -> aggregate decode tokens per second

  // Aggregate tokens/s of a batch of `batch` sequences: linear between measured sizes, the largest
  // measured size's figure beyond it (a bigger batch then only makes each step slower).
  double decode_rate(int batch) const;
  // Seconds for one decode step of `batch` sequences (each gains one token).
  double step_seconds(int batch) const { return batch / decode_rate(batch); }
  double prefill_seconds(int tokens) const { return tokens / prefill_tps; }
};

class ProfileTable {
 public:
  // The profile of `model` run with `threads` threads; ProfileError listing what the table has otherwise.
  const EngineProfile& get(const std::string& model, int threads) const;
  const std::map<std::string, EngineProfile>& profiles() const { return profiles_; }
  EngineProfile& entry(const std::string& model, int threads);  // for the reader

 private:
  std::map<std::string, EngineProfile> profiles_;
};

// Parses the CSV text; every profile needs a prefill row and a decode row for batch 1.
ProfileTable parse_profile_csv(std::string_view text, std::string_view source);
ProfileTable read_profile_csv(const std::filesystem::path& path);

// The default table as CSV text (its comments say where each figure comes from) and parsed.
std::string_view default_profile_csv();
const ProfileTable& default_profile();

}  // namespace pice::actors
