#include "lib/tokenizer/tokenizer_file.h"

#include "lib/loader/gguf.h"
#include "lib/loader/tokenizer_data.h"

namespace cace {

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizer(const std::string& path) {
  absl::StatusOr<TokenizerData> data;
  if (path.ends_with(".gguf")) {
    absl::StatusOr<GgufFile> file = GgufFile::Open(path);
    if (!file.ok()) return file.status();
    data = TokenizerDataFromGguf(*file);
  } else {
    data = ReadTokenizerJsonFile(path);
  }
  if (!data.ok()) return data.status();
  return Tokenizer::FromTokenizerData(*data);
}

}  // namespace cace
