#include "lib/runtime/host_buffer.h"

#include <new>

#include "absl/strings/str_cat.h"

namespace cace {
namespace {

constexpr std::align_val_t kPageAlignment{4096};

class PlainHostBuffer final : public HostBuffer {
 public:
  PlainHostBuffer(std::byte* data, std::uint64_t size) : data_(data), size_(size) {}
  ~PlainHostBuffer() override { ::operator delete[](data_, kPageAlignment); }
  std::byte* data() override { return data_; }
  const std::byte* data() const override { return data_; }
  std::uint64_t size() const override { return size_; }

 private:
  std::byte* const data_;
  const std::uint64_t size_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<HostBuffer>> AllocatePlainHostBuffer(std::uint64_t bytes) {
  if (bytes == 0) return absl::InvalidArgumentError("a host buffer of 0 bytes");
  void* data = ::operator new[](bytes, kPageAlignment, std::nothrow);
  if (data == nullptr) return absl::ResourceExhaustedError(absl::StrCat("host buffer: cannot allocate ", bytes, " bytes"));
  return std::unique_ptr<HostBuffer>(new PlainHostBuffer(static_cast<std::byte*>(data), bytes));
}

}  // namespace cace
