// Model::load: hyperparameters from metadata, and a clear ModelError for what it cannot run.
#include <gtest/gtest.h>

#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "kernels/model.hpp"
#include "kernels/resident_memory.hpp"
#include "kernels/sequence.hpp"
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
      {"arch", [](auto& s) { s.arch = "gpt2"; }, "architecture 'gpt2' is not supported yet (supported: llama, qwen2)"},
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

namespace pice::kernels {
namespace {

std::vector<float> logits_after(const std::shared_ptr<const Model>& model) {
  Sequence seq(model, 16);
  const std::vector<int32_t> tokens{1, 40, 41, 300};
  const std::span<const float> logits = seq.feed(tokens);
  return {logits.begin(), logits.end()};
}

TEST(ModelLoad, ReadAndMmapGiveIdenticalLogits) {
  const std::filesystem::path path = testing::tiny_model(TensorType::q8_0);
  ModelOptions read, mapped;
  read.load = LoadMode::read;
  mapped.load = LoadMode::mmap_locked;
  const auto a = Model::load(path, read), b = Model::load(path, mapped);
  EXPECT_EQ(a->file().load_mode(), LoadMode::read);
  EXPECT_EQ(b->file().load_mode(), LoadMode::mmap_locked);
  EXPECT_EQ(logits_after(a), logits_after(b));
  EXPECT_GT(resident_bytes(), std::filesystem::file_size(path));
}

TEST(ModelLoad, LoadModeNames) {
  EXPECT_EQ(parse_load_mode("read"), LoadMode::read);
  EXPECT_EQ(parse_load_mode("mmap"), LoadMode::mmap_locked);
  EXPECT_EQ(parse_load_mode("mmap-lock-required"), LoadMode::mmap_lock_required);
  EXPECT_EQ(parse_load_mode("mlock"), std::nullopt);
  EXPECT_EQ(load_mode_name(LoadMode::mmap_locked), "mmap-locked");
}

// Raises or lowers this thread's effective CAP_IPC_LOCK (root's exemption from RLIMIT_MEMLOCK);
// capabilities are per thread, so this touches nothing else. False when the kernel refuses.
bool set_ipc_lock_capability(bool on) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  const uint32_t bit = 1u << (CAP_IPC_LOCK % 32);
  if (on) data[CAP_IPC_LOCK / 32].effective |= bit & data[CAP_IPC_LOCK / 32].permitted;
  else data[CAP_IPC_LOCK / 32].effective &= ~bit;
  return ::syscall(SYS_capset, &header, data) == 0;
}

// Under a memory-lock limit smaller than the file, "mmap" keeps the weights mapped and says why they
// are not locked; "mmap-lock-required" refuses to load.
TEST(ModelLoad, AFailedLockIsReportedOrRefused) {
  const std::filesystem::path path = testing::tiny_model();
  set_ipc_lock_capability(false);   // as root, the limit would not apply
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_MEMLOCK, &saved), 0);
  rlimit tight = saved;
  tight.rlim_cur = 4096;
  ASSERT_EQ(::setrlimit(RLIMIT_MEMLOCK, &tight), 0);
  std::string lock_error, required_error;
  try {
    lock_error = GgufFile::open(path, LoadMode::mmap_locked).lock_error();
    GgufFile::open(path, LoadMode::mmap_lock_required);
  } catch (const GgufError& e) {
    required_error = e.what();
  }
  ::setrlimit(RLIMIT_MEMLOCK, &saved);
  set_ipc_lock_capability(true);
  if (lock_error.empty() && required_error.empty())
    GTEST_SKIP() << "mlock ignores RLIMIT_MEMLOCK for this process (CAP_IPC_LOCK, e.g. root): nothing to provoke";
  EXPECT_NE(lock_error.find("RLIMIT_MEMLOCK is 4 KiB"), std::string::npos) << lock_error;
  EXPECT_NE(required_error.find(path.string()), std::string::npos) << required_error;
  EXPECT_NE(required_error.find("mlock of"), std::string::npos) << required_error;
}

}  // namespace
}  // namespace pice::kernels
