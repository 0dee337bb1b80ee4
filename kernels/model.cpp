#include "kernels/model.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/quant.hpp"

namespace pice::kernels {
namespace {

std::string dims_text(const std::vector<uint64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

// Rope style by architecture, as llama.cpp's llama_model_rope_type().
const std::vector<std::pair<std::string, RopeStyle>>& architectures() {
  static const std::vector<std::pair<std::string, RopeStyle>> known = {{"llama", RopeStyle::normal},
                                                                      {"qwen2", RopeStyle::neox}};
  return known;
}

}  // namespace

std::vector<std::string> supported_architectures() {
  std::vector<std::string> names;
  for (const auto& [name, style] : architectures()) names.push_back(name);
  return names;
}

std::optional<LoadMode> parse_load_mode(std::string_view name) {
  if (name == "read") return LoadMode::read;
  if (name == "mmap") return LoadMode::mmap_locked;
  if (name == "mmap-lock-required") return LoadMode::mmap_lock_required;
  return std::nullopt;
}

std::shared_ptr<const Model> Model::load(const std::filesystem::path& path, int threads) {
  ModelOptions options;
  options.threads = threads;
  return load(path, options);
}

std::shared_ptr<const Model> Model::load(const std::filesystem::path& path, const ModelOptions& options) {
  if (const std::string problem = options.kv.problem(); !problem.empty())
    throw ModelError("model " + path.string() + ": " + problem);
  GgufFile file = GgufFile::open(path, options.load);
  const std::string arch = file.get_string_or("general.architecture", "");
  const auto& known = architectures();
  if (std::none_of(known.begin(), known.end(), [&](const auto& a) { return a.first == arch; })) {
    std::string names;
    for (const std::string& n : supported_architectures()) names += (names.empty() ? "" : ", ") + n;
    throw ModelError("model " + path.string() + ": architecture '" + arch + "' is not supported yet (supported: " +
                     names + ")");
  }
  std::optional<Tokenizer> tokenizer;
  try {
    tokenizer.emplace(Tokenizer::from_gguf(file));
  } catch (const TokenizerError& e) {
    throw ModelError("model " + path.string() + ": " + e.what());
  }
  std::shared_ptr<Model> model(new Model(std::move(file), std::move(*tokenizer)));
  if (options.threads > 1) model->pool_ = std::make_shared<ThreadPool>(options.threads);
  model->kv_policy_ = options.kv;
  return model;
}

Model::Model(GgufFile file, Tokenizer tokenizer) : file_(std::move(file)), tokenizer_(std::move(tokenizer)) {
  read_hparams();
  bind_weights();
  compute_rope_frequencies();
}

std::string Model::name() const {
  const std::string name = file_.get_string_or("general.name", "");
  return name.empty() ? file_.path().stem().string() : name;
}

void Model::fail(const std::string& what) const { throw ModelError("model " + file_.path().string() + ": " + what); }

void Model::read_hparams() {
  hp_.arch = file_.get_string("general.architecture");
  for (const auto& [name, style] : architectures())
    if (name == hp_.arch) hp_.rope_style = style;
  const std::string p = hp_.arch + ".";
  // Every size is checked to be positive and small enough that index arithmetic in int stays exact.
  auto positive = [&](const std::string& key, std::optional<int64_t> fallback = std::nullopt) {
    const int64_t v = fallback ? file_.get_int_or(key, *fallback) : file_.get_int(key);
    if (v <= 0 || v > (1 << 24)) fail("metadata " + key + " = " + std::to_string(v) + " is out of range");
    return static_cast<int>(v);
  };
  hp_.dim = positive(p + "embedding_length");
  hp_.n_layers = positive(p + "block_count");
  hp_.n_heads = positive(p + "attention.head_count");
  hp_.n_kv_heads = positive(p + "attention.head_count_kv", hp_.n_heads);
  hp_.ffn_dim = positive(p + "feed_forward_length");
  hp_.context_length = positive(p + "context_length");
  hp_.rms_eps = static_cast<float>(file_.get_float(p + "attention.layer_norm_rms_epsilon"));
  hp_.rope_theta = static_cast<float>(file_.get_float_or(p + "rope.freq_base", 10000.0));
  hp_.vocab_size = static_cast<int>(tokenizer_.size());

  if (hp_.dim % hp_.n_heads != 0)
    fail("embedding_length " + std::to_string(hp_.dim) + " is not a multiple of head_count " +
         std::to_string(hp_.n_heads));
  if (hp_.n_heads % hp_.n_kv_heads != 0)
    fail("head_count " + std::to_string(hp_.n_heads) + " is not a multiple of head_count_kv " +
         std::to_string(hp_.n_kv_heads));
  if (head_dim() % 2 != 0) fail("head dimension " + std::to_string(head_dim()) + " is odd; RoPE needs pairs");
  if (const int64_t rot = file_.get_int_or(p + "rope.dimension_count", head_dim()); rot != head_dim())
    fail("rope.dimension_count " + std::to_string(rot) + " differs from the head dimension " +
         std::to_string(head_dim()) + ": partial rotary embeddings are not supported yet");
  if (const std::string scaling = file_.get_string_or(p + "rope.scaling.type", "none"); scaling != "none")
    fail("rope scaling '" + scaling + "' is not supported yet");
  if (!(hp_.rms_eps > 0.0f) || !(hp_.rope_theta > 0.0f))
    fail("layer_norm_rms_epsilon and rope.freq_base must be positive");
}

const TensorInfo& Model::tensor(const std::string& name, const std::vector<uint64_t>& dims) const {
  const TensorInfo* t = file_.find_tensor(name);
  if (t == nullptr) fail("tensor '" + name + "' is missing");
  if (t->dims != dims) fail("tensor '" + name + "' has dims " + dims_text(t->dims) + ", expected " + dims_text(dims));
  if (!is_supported_type(t->type)) {
    const std::string type(tensor_type_name(t->type));
    fail("tensor '" + name + "' has type " + type + ": " + type + " not supported yet (" + supported_types_text() + ")");
  }
  return *t;
}

Matrix Model::matrix(const std::string& name, int rows, int cols) const {
  const TensorInfo& t = tensor(name, {static_cast<uint64_t>(cols), static_cast<uint64_t>(rows)});
  return Matrix{file_.tensor_data(t), t.type, rows, cols};
}

std::span<const float> Model::vector(const std::string& name, int n) {
  const TensorInfo& t = tensor(name, {static_cast<uint64_t>(n)});
  const std::byte* data = file_.tensor_data(t);
  if (t.type == TensorType::f32) return {reinterpret_cast<const float*>(data), static_cast<size_t>(n)};
  std::vector<float> widened(static_cast<size_t>(n));
  dequantize_row(t.type, data, widened.data(), n);
  converted_.push_back(std::move(widened));
  return converted_.back();
}

std::span<const float> Model::optional_vector(const std::string& name, int n) {
  return file_.find_tensor(name) == nullptr ? std::span<const float>{} : vector(name, n);
}

void Model::compute_rope_frequencies() {
  const int hd = head_dim();
  inv_freq_.resize(static_cast<size_t>(hd / 2));
  for (int i = 0; i < hd / 2; ++i)
    inv_freq_[static_cast<size_t>(i)] = static_cast<float>(std::pow(static_cast<double>(hp_.rope_theta), -2.0 * i / hd));
  // Llama 3.1+'s long-context scaling: GGUF stores one divisor per pair (ggml_rope_ext's freq_factors).
  const std::span<const float> factors = optional_vector("rope_freqs.weight", hd / 2);
  for (size_t i = 0; i < factors.size(); ++i) {
    if (!(factors[i] > 0.0f))
      fail("rope_freqs.weight[" + std::to_string(i) + "] = " + std::to_string(factors[i]) + " is not positive");
    inv_freq_[i] /= factors[i];
  }
}

void Model::bind_weights() {
  const int dim = hp_.dim, kv = kv_dim(), ffn = hp_.ffn_dim, vocab = hp_.vocab_size;
  token_embd_ = matrix("token_embd.weight", vocab, dim);
  output_norm_ = vector("output_norm.weight", dim);
  tied_ = file_.find_tensor("output.weight") == nullptr;
  output_ = tied_ ? token_embd_ : matrix("output.weight", vocab, dim);
  layers_.reserve(static_cast<size_t>(hp_.n_layers));
  for (int i = 0; i < hp_.n_layers; ++i) {
    const std::string b = "blk." + std::to_string(i) + ".";
    Layer l;
    l.attn_norm = vector(b + "attn_norm.weight", dim);
    l.wq = matrix(b + "attn_q.weight", dim, dim);
    l.wk = matrix(b + "attn_k.weight", kv, dim);
    l.wv = matrix(b + "attn_v.weight", kv, dim);
    l.wo = matrix(b + "attn_output.weight", dim, dim);
    // Qwen2 has them; a llama file may too (llama.cpp loads them there as optional).
    l.bq = optional_vector(b + "attn_q.bias", dim);
    l.bk = optional_vector(b + "attn_k.bias", kv);
    l.bv = optional_vector(b + "attn_v.bias", kv);
    l.ffn_norm = vector(b + "ffn_norm.weight", dim);
    l.w_gate = matrix(b + "ffn_gate.weight", ffn, dim);
    l.w_up = matrix(b + "ffn_up.weight", ffn, dim);
    l.w_down = matrix(b + "ffn_down.weight", dim, ffn);
    layers_.push_back(l);
  }
}

}  // namespace pice::kernels
