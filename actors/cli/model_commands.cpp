// `pice generate`, `pice model synth`, `pice model info`: the model commands of the CLI.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>

#include "actors/cli/commands.hpp"
#include "kernels/chat_template.hpp"
#include "kernels/generate.hpp"
#include "kernels/gguf_file.hpp"
#include "kernels/resident_memory.hpp"
#include "kernels/synth.hpp"

namespace pice::cli {
namespace {

namespace k = pice::kernels;

std::string millions(uint64_t n) {
  std::ostringstream s;
  s.precision(n >= 100'000'000 ? 4 : 3);
  s << static_cast<double>(n) / 1e6 << "M";
  return s.str();
}

std::string megabytes(uint64_t bytes) {
  std::ostringstream s;
  s.precision(4);
  s << static_cast<double>(bytes) / (1024.0 * 1024.0) << " MiB";
  return s.str();
}

uint64_t synth_parameters(const k::SynthShape& s) {
  const uint64_t dim = static_cast<uint64_t>(s.dim), ffn = static_cast<uint64_t>(s.ffn_dim);
  const uint64_t kv = dim / static_cast<uint64_t>(s.n_heads) * static_cast<uint64_t>(s.n_kv_heads);
  const uint64_t biases = s.arch == "qwen2" ? dim + 2 * kv : 0;
  const uint64_t layer = 2 * dim + 2 * dim * dim + 2 * dim * kv + 3 * dim * ffn + biases;
  return static_cast<uint64_t>(s.vocab_size) * dim + dim + static_cast<uint64_t>(s.n_layers) * layer;
}

// The text of a token id for display, e.g. 1 '<s>'.
std::string token_label(const std::vector<std::string>& pieces, int64_t id) {
  if (id < 0 || static_cast<uint64_t>(id) >= pieces.size()) return std::to_string(id) + " (none)";
  return std::to_string(id) + " '" + pieces[static_cast<size_t>(id)] + "'";
}

k::LoadMode load_mode(const std::string& name) {
  const std::optional<k::LoadMode> mode = k::parse_load_mode(name);
  if (!mode) throw std::invalid_argument("--load must be read, mmap or mmap-lock-required, not '" + name + "'");
  return *mode;
}

// The model loaded as asked; what it costs in resident memory, and a lock that failed, on stderr (the
// process holds little else at this point, so its RSS is the model's).
std::shared_ptr<const k::Model> load_reporting(const std::string& spec, const k::ModelOptions& options,
                                               const std::string& command) {
  const auto model = k::Model::load(k::resolve_model_path(spec), options);
  if (const std::string& lock = model->file().lock_error(); !lock.empty())
    std::cerr << command << ": warning: weights stay mapped but unlocked (the kernel may evict them): " << lock << "\n";
  return model;
}

std::string resident_text(const k::Model& model) {
  const bool unlocked = !model.file().lock_error().empty();
  return megabytes(k::resident_bytes()) + " resident after loading with " +
         std::string(k::load_mode_name(model.file().load_mode())) + (unlocked ? " (lock refused: pages not resident until read)" : "") +
         " (file " + megabytes(model.file().file_size()) + ")";
}

}  // namespace

int run_generate(const GenerateOptions& options) {
  try {
    if (options.n_tokens < 0) throw std::invalid_argument("-n must be >= 0, got " + std::to_string(options.n_tokens));
    k::ModelOptions model_options;
    model_options.load = load_mode(options.load);
    model_options.kv = {options.kv_window, options.kv_keep};
    const auto model = load_reporting(options.model, model_options, "pice generate");
    std::cerr << "pice generate: " << model->name() << ": " << resident_text(*model) << "\n";
    const k::Tokenizer& tokenizer = model->tokenizer();
    std::vector<int32_t> prompt;
    if (options.chat) {
      const std::vector<k::ChatMessage> messages = {{"user", options.prompt}};
      prompt = k::encode_prompt(tokenizer, k::render_chat(k::ChatTemplate::from_gguf(model->file()), messages, true));
    } else {
      prompt = tokenizer.encode(options.prompt, tokenizer.vocab().add_bos);
    }
    if (prompt.empty()) throw std::invalid_argument("empty prompt, and the model adds no BOS token");
    const int context = model->hparams().context_length;
    if (static_cast<int64_t>(prompt.size()) >= context)
      throw std::invalid_argument("the prompt has " + std::to_string(prompt.size()) +
                                  " tokens; the model's context is " + std::to_string(context));
    k::Sequence sequence(model, static_cast<int>(std::min<int64_t>(context, static_cast<int64_t>(prompt.size()) + options.n_tokens)));

    k::GenerateOptions generate_options;
    generate_options.max_tokens = options.n_tokens;
    generate_options.ignore_eos = options.ignore_eos;
    generate_options.sampling = {options.temperature, options.top_p, options.top_k, options.seed};
    // Streamed as it comes; the pieces add up to exactly the generated text.
    k::generate(sequence, prompt, generate_options, [](int32_t, std::string_view piece) {
      std::cout << piece << std::flush;
      return true;
    });
    std::cout << "\n";
    return kExitOk;
  } catch (const std::exception& e) {
    std::cerr << "pice generate: " << e.what() << "\n";
    return kExitFailure;
  }
}

int run_model_synth(const SynthOptions& options) {
  try {
    if (options.output.empty()) throw std::invalid_argument("no output file given");
    if (!k::is_synth_format(options.type)) {
      std::string known;
      for (const std::string& f : k::synth_format_names()) known += (known.empty() ? "" : ", ") + f;
      throw std::invalid_argument("type must be one of " + known + ", not '" + options.type + "'");
    }
    k::SynthShape shape = k::synth_shape(options.shape);
    if (!options.arch.empty()) shape.arch = options.arch;
    const std::filesystem::path out = options.output;
    if (out.has_parent_path()) std::filesystem::create_directories(out.parent_path());
    // Written beside the target and renamed, so a failed or interrupted run leaves no partial model.
    const std::filesystem::path tmp = out.string() + ".tmp";
    try {
      k::write_synth_model(tmp, shape, std::string_view(options.type), options.seed);
      std::filesystem::rename(tmp, out);
    } catch (...) {
      std::error_code ignored;
      std::filesystem::remove(tmp, ignored);
      throw;
    }
    std::cout << "wrote " << out.string() << ": pice-synth-" << shape.name << " (" << shape.arch << ", dim " << shape.dim << ", "
              << shape.n_layers << " layers, " << shape.n_heads << "/" << shape.n_kv_heads << " heads, ffn "
              << shape.ffn_dim << ", vocab " << shape.vocab_size << ", context " << shape.context_length << "), "
              << options.type << ", seed " << options.seed << ", " << millions(synth_parameters(shape))
              << " parameters, " << megabytes(std::filesystem::file_size(out)) << "\n";
    return kExitOk;
  } catch (const std::exception& e) {
    std::cerr << "pice model synth: " << e.what() << "\n";
    return kExitFailure;
  }
}

int run_model_info(const ModelInfoOptions& options) {
  try {
    // Reads the GGUF directly (not Model::load) so that files the engine cannot run yet still show.
    const k::GgufFile file = k::GgufFile::open(k::resolve_model_path(options.path));
    const std::string arch = file.get_string_or("general.architecture", "?");
    const std::string p = arch + ".";
    std::cout << "file:         " << file.path().string() << " (" << megabytes(file.file_size()) << ", GGUF v"
              << file.version() << ", " << file.keys().size() << " metadata keys)\n";
    std::cout << "name:         " << file.get_string_or("general.name", file.path().stem().string()) << "\n";
    const std::vector<std::string> runs = k::supported_architectures();
    const bool supported = std::find(runs.begin(), runs.end(), arch) != runs.end();
    std::cout << "architecture: " << arch << (arch == "qwen2" ? " (rope neox, q/k/v biases)" : arch == "llama" ? " (rope normal)" : "")
              << (supported ? "" : " (not supported by the engine)")
              << (file.find_tensor("rope_freqs.weight") != nullptr ? ", rope frequency factors" : "") << "\n";
    std::cout << "shape:        dim " << file.get_int_or(p + "embedding_length", 0) << ", layers "
              << file.get_int_or(p + "block_count", 0) << ", heads " << file.get_int_or(p + "attention.head_count", 0)
              << " / kv " << file.get_int_or(p + "attention.head_count_kv", file.get_int_or(p + "attention.head_count", 0))
              << ", ffn " << file.get_int_or(p + "feed_forward_length", 0) << ", context "
              << file.get_int_or(p + "context_length", 0) << ", rope theta "
              << file.get_float_or(p + "rope.freq_base", 10000.0) << ", rms eps "
              << file.get_float_or(p + "attention.layer_norm_rms_epsilon", 0.0) << "\n";

    std::map<std::string, int> type_counts;
    uint64_t parameters = 0;
    for (const k::TensorInfo& t : file.tensors()) {
      ++type_counts[std::string(k::tensor_type_name(t.type))];
      parameters += t.elements();
    }
    std::cout << "tensors:      " << file.tensors().size();
    if (!file.tensors().empty()) {
      std::string types;
      for (const auto& [type, count] : type_counts) types += (types.empty() ? "" : ", ") + type + ": " + std::to_string(count);
      const bool tied = file.find_tensor("token_embd.weight") != nullptr && file.find_tensor("output.weight") == nullptr;
      std::cout << " (" << types << "), " << millions(parameters) << " parameters" << (tied ? ", tied embeddings" : "");
    }
    std::cout << "\n";

    if (file.has("tokenizer.ggml.tokens")) {
      const std::vector<std::string> pieces = file.get_string_array("tokenizer.ggml.tokens");
      const std::string kind = file.get_string_or("tokenizer.ggml.model", "?");
      std::cout << "vocab:        " << pieces.size() << " tokens, " << kind
                << (kind == "llama" ? " (SPM)" : kind == "gpt2" ? " (byte-level BPE)" : "") << ", bos "
                << token_label(pieces, file.get_int_or("tokenizer.ggml.bos_token_id", -1)) << ", eos "
                << token_label(pieces, file.get_int_or("tokenizer.ggml.eos_token_id", -1)) << "\n";
    } else {
      std::cout << "vocab:        none\n";
    }
    const bool has_template = file.has("tokenizer.chat_template");
    std::cout << "template:     " << k::ChatTemplate::from_gguf(file).describe(has_template) << "\n";
    if (!options.load.empty()) {
      k::ModelOptions model_options;
      model_options.load = load_mode(options.load);
      const auto model = load_reporting(options.path, model_options, "pice model info");
      std::cout << "memory:       " << resident_text(*model) << "\n";
    }
    return kExitOk;
  } catch (const std::exception& e) {
    std::cerr << "pice model info: " << e.what() << "\n";
    return kExitFailure;
  }
}

}  // namespace pice::cli
