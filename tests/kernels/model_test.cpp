// Model::load: hyperparameters from metadata, and a clear ModelError for what it cannot run.
#include <gtest/gtest.h>

#include <cstring>

#include "kernels/model.hpp"
#include "kernels_test_util.hpp"

namespace pice::kernels {
namespace {

std::string load_error(const std::filesystem::path& path) {
  try {
    Model::load(path);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

testing::TestModelSpec ones_spec() {
  testing::TestModelSpec spec;
  spec.fill = [](const std::string&, uint64_t, std::span<float> out) { std::fill(out.begin(), out.end(), 0.01f); };
  return spec;
}

TEST(Model, ReadsHyperparametersOfTheSynthModel) {
  const auto model = Model::load(testing::tiny_model());
  const HParams& hp = model->hparams();
  const SynthShape tiny = synth_shape("tiny");
  EXPECT_EQ(hp.arch, "llama");
  EXPECT_EQ(hp.dim, tiny.dim);
  EXPECT_EQ(hp.n_layers, tiny.n_layers);
  EXPECT_EQ(hp.n_heads, tiny.n_heads);
  EXPECT_EQ(hp.n_kv_heads, tiny.n_kv_heads);
  EXPECT_EQ(hp.ffn_dim, tiny.ffn_dim);
  EXPECT_EQ(hp.vocab_size, tiny.vocab_size);
  EXPECT_EQ(hp.context_length, tiny.context_length);
  EXPECT_FLOAT_EQ(hp.rope_theta, 10000.0f);
  EXPECT_TRUE(model->tied_embeddings());
  EXPECT_EQ(model->name(), "pice-synth-tiny");
  EXPECT_EQ(model->head_dim(), 16);
  EXPECT_EQ(model->kv_dim(), 32);
  EXPECT_EQ(model->tokenizer().size(), static_cast<size_t>(tiny.vocab_size));
}

TEST(Model, NamesAnUnsupportedTensorType) {
  testing::TempDir dir;
  std::string bytes = testing::read_bytes(testing::tiny_model());
  // Retype blk.0.attn_q.weight ([64, 64] f32) as q5_0: still a valid GGUF (smaller data, same offset).
  const std::string name = "blk.0.attn_q.weight";
  const size_t type_at = bytes.find(name) + name.size() + 4 + 2 * 8;
  const uint32_t q5_0 = 6;
  std::memcpy(bytes.data() + type_at, &q5_0, 4);
  testing::write_bytes(dir / "q.gguf", bytes);
  ASSERT_NO_THROW(GgufFile::open(dir / "q.gguf"));
  const std::string error = load_error(dir / "q.gguf");
  EXPECT_NE(error.find("tensor 'blk.0.attn_q.weight' has type q5_0: q5_0 not supported yet"), std::string::npos) << error;
  EXPECT_NE(error.find((dir / "q.gguf").string()), std::string::npos) << error;
}

TEST(Model, RejectsWhatItCannotRun) {
  testing::TempDir dir;
  struct Case {
    std::string name;
    std::function<void(testing::TestModelSpec&)> change;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"arch", [](auto& s) { s.arch = "gpt2"; }, "architecture 'gpt2' is not supported yet"},
      {"missing", [](auto& s) { s.omit = "blk.0.ffn_up.weight"; }, "tensor 'blk.0.ffn_up.weight' is missing"},
      {"heads", [](auto& s) { s.n_heads = 3; s.n_kv_heads = 3; s.dim = 16; }, "not a multiple of head_count"},
      {"kv heads", [](auto& s) { s.n_heads = 4; s.n_kv_heads = 3; }, "not a multiple of head_count_kv"},
  };
  for (const Case& c : cases) {
    testing::TestModelSpec spec = ones_spec();
    c.change(spec);
    const std::filesystem::path path = dir / (c.name + ".gguf");
    try {
      testing::write_test_model(path, spec);
    } catch (const std::exception& e) {
      FAIL() << c.name << ": " << e.what();
    }
    const std::string error = load_error(path);
    EXPECT_NE(error.find(c.expected), std::string::npos) << c.name << ": " << error;
  }
}

TEST(Model, ChecksTensorShapes) {
  testing::TempDir dir;
  std::string bytes = testing::read_bytes(testing::tiny_model());
  // Claim blk.1.attn_k.weight is [64, 16] instead of [64, 32]: smaller, so still inside the file.
  const std::string name = "blk.1.attn_k.weight";
  const size_t dim1_at = bytes.find(name) + name.size() + 4 + 8;
  const uint64_t sixteen = 16;
  std::memcpy(bytes.data() + dim1_at, &sixteen, 8);
  testing::write_bytes(dir / "shape.gguf", bytes);
  const std::string error = load_error(dir / "shape.gguf");
  EXPECT_NE(error.find("tensor 'blk.1.attn_k.weight' has dims [64, 16], expected [64, 32]"), std::string::npos) << error;
}

}  // namespace
}  // namespace pice::kernels
