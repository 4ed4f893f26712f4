#include "lib/loader/safetensors.h"

#include <catch2/catch.hpp>

#include "lib/loader/safetensors_writer.h"
#include "tests/loader/test_files.h"

namespace cace {
namespace {

using testing::Bytes;
using testing::FloatBytes;

// A file from a header text and `data_bytes` bytes of data.
std::vector<std::byte> RawFile(const std::string& header, std::size_t data_bytes) {
  std::vector<std::byte> out(8);
  for (int i = 0; i < 8; ++i) out[i] = static_cast<std::byte>((header.size() >> (8 * i)) & 0xFF);
  auto h = Bytes(header);
  out.insert(out.end(), h.begin(), h.end());
  out.resize(out.size() + data_bytes, std::byte{0x11});
  return out;
}

std::string ErrorOf(const std::vector<std::byte>& file) {
  auto parsed = SafetensorsFile::Parse(file, "m.safetensors");
  REQUIRE_FALSE(parsed.ok());
  CHECK(absl::IsInvalidArgument(parsed.status()));
  return std::string(parsed.status().message());
}

TEST_CASE("safetensors written by cace parse back with data in place") {
  SafetensorsWriter w;
  w.AddMetadata("format", "pt");
  w.AddTensor("a", DType::kF32, {2, 2}, FloatBytes({1, 2, 3, 4}));
  w.AddTensor("b", DType::kF32, {3}, FloatBytes({5, 6, 7}));
  auto bytes = w.Serialize();
  REQUIRE(bytes.ok());
  CHECK((bytes->size() - 8 - 28) % 8 == 0);  // header padded to 8 bytes
  auto file = SafetensorsFile::Parse(*bytes, "m.safetensors");
  REQUIRE(file.ok());
  REQUIRE(file->tensors().size() == 2);
  CHECK(file->metadata().at("format") == "pt");
  const SafetensorsTensor* b = file->Find("b");
  REQUIRE(b != nullptr);
  CHECK(b->shape == std::vector<std::int64_t>{3});
  float values[3];
  std::memcpy(values, file->TensorData(*b).data(), sizeof values);
  CHECK(values[2] == 7.0f);
}

TEST_CASE("safetensors: every bad file is a clear error naming the file and field") {
  const std::string ok_entry = R"("w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  CHECK(SafetensorsFile::Parse(RawFile("{" + ok_entry + "}", 8), "m").ok());

  SECTION("truncated before the header length") {
    CHECK(ErrorOf(Bytes("abc")).find("too short") != std::string::npos);
  }
  SECTION("header larger than the file") {
    auto file = RawFile("{" + ok_entry + "}", 8);
    file[0] = std::byte{0xFF};
    file[1] = std::byte{0xFF};
    const std::string e = ErrorOf(file);
    CHECK(e.find("m.safetensors: header length") != std::string::npos);
    CHECK(e.find("truncated") != std::string::npos);
  }
  SECTION("absurd header length") {
    auto file = RawFile("{}", 0);
    file[7] = std::byte{0x7F};
    CHECK(ErrorOf(file).find("exceeds the limit") != std::string::npos);
  }
  SECTION("header is not JSON") { CHECK(ErrorOf(RawFile("{\"w\":", 0)).find("JSON error") != std::string::npos); }
  SECTION("unknown dtype") {
    const std::string e = ErrorOf(RawFile(R"({"w":{"dtype":"F7","shape":[2],"data_offsets":[0,8]}})", 8));
    CHECK(e.find("tensor 'w': field 'dtype'") != std::string::npos);
  }
  SECTION("data past the end of the file (truncated data)") {
    const std::string e = ErrorOf(RawFile("{" + ok_entry + "}", 4));
    CHECK(e.find("field 'data_offsets'") != std::string::npos);
    CHECK(e.find("past the data section") != std::string::npos);
  }
  SECTION("shape that does not match the byte range") {
    const std::string e = ErrorOf(RawFile(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8));
    CHECK(e.find("spans 8 bytes but dtype F32 and shape need 12") != std::string::npos);
  }
  SECTION("shape whose size overflows") {
    const std::string e = ErrorOf(RawFile(
        R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}})", 8));
    CHECK(e.find("field 'shape'") != std::string::npos);
    CHECK(e.find("overflows") != std::string::npos);
  }
  SECTION("negative dimension") {
    CHECK(ErrorOf(RawFile(R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8)).find("field 'shape'[0]") !=
          std::string::npos);
  }
  SECTION("overlapping tensors") {
    const std::string e = ErrorOf(RawFile(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                          R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12));
    CHECK(e.find("overlaps tensor 'a'") != std::string::npos);
  }
  SECTION("gap between tensors") {
    CHECK(ErrorOf(RawFile(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                          R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})", 12))
              .find("gap") != std::string::npos);
  }
  SECTION("bytes after the last tensor") {
    CHECK(ErrorOf(RawFile("{" + ok_entry + "}", 16)).find("cover 8 bytes of the 16-byte") != std::string::npos);
  }
  SECTION("begin after end") {
    CHECK(ErrorOf(RawFile(R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", 8)).find("is after end") !=
          std::string::npos);
  }
  SECTION("missing field") {
    CHECK(ErrorOf(RawFile(R"({"w":{"dtype":"F32","data_offsets":[0,8]}})", 8)).find("field 'shape' is missing") !=
          std::string::npos);
  }
  SECTION("non-string metadata") {
    CHECK(ErrorOf(RawFile(R"({"__metadata__":{"n":1}})", 0)).find("'__metadata__'.'n'") != std::string::npos);
  }
}

TEST_CASE("safetensors Open names a missing file") {
  auto file = SafetensorsFile::Open("/nonexistent/model.safetensors");
  REQUIRE(absl::IsNotFound(file.status()));
  CHECK(std::string(file.status().message()).find("/nonexistent/model.safetensors") != std::string::npos);
}

}  // namespace
}  // namespace cace
