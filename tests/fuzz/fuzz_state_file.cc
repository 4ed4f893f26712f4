// libFuzzer target for the state file's reader (lib/engine/state_file.h): any bytes, as a whole
// file and framed as a payload (so that inputs get past the checksum to the field checks), decode
// to an error or to a state that encodes and decodes back to itself; never a crash.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "lib/engine/state_file.h"

namespace {

void DecodeAndRoundTrip(std::string_view bytes) {
  const absl::StatusOr<cace::LearnedState> state = cace::DecodeState(bytes);
  if (!state.ok()) return;
  const std::string again = cace::EncodeState(*state);
  const absl::StatusOr<cace::LearnedState> back = cace::DecodeState(again);
  if (!back.ok() || back->models != state->models || back->load_profiles.size() != state->load_profiles.size() ||
      cace::EncodeState(*back) != again) {
    std::abort();  // a state that does not survive its own round trip
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  DecodeAndRoundTrip(bytes);
  DecodeAndRoundTrip(cace::FrameStatePayload(bytes));
  return 0;
}
