#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdio>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "lib/report/replay_report.h"
#include "tests/report/report_fixtures.h"

namespace cace {
namespace {

std::size_t Count(std::string_view text, std::string_view part) {
  std::size_t n = 0;
  for (std::size_t at = text.find(part); at != std::string_view::npos;
       at = text.find(part, at + 1)) {
    ++n;
  }
  return n;
}

// Well-formedness at the level of tags: every element closes in order, attribute values are
// quoted, and no raw '<' or stray '&' appears in text or attributes. Returns what went wrong.
std::string CheckTags(std::string_view xml) {
  std::vector<std::string> open;
  std::size_t i = 0;
  while (i < xml.size()) {
    if (xml[i] == '&') {
      const std::size_t end = xml.find(';', i);
      const std::string_view entity =
          xml.substr(i, end == std::string_view::npos ? 1 : end - i + 1);
      if (entity != "&amp;" && entity != "&lt;" && entity != "&gt;" && entity != "&quot;" &&
          entity != "&apos;") {
        return "bad entity at " + std::to_string(i);
      }
      i += entity.size();
      continue;
    }
    if (xml[i] != '<') {
      ++i;
      continue;
    }
    // Inside a tag: find its end outside quoted attribute values.
    std::size_t j = i + 1;
    char quote = 0;
    for (; j < xml.size() && (quote != 0 || xml[j] != '>'); ++j) {
      if (quote != 0 && xml[j] == quote) {
        quote = 0;
      } else if (quote == 0 && (xml[j] == '"' || xml[j] == '\'')) {
        quote = xml[j];
      } else if (xml[j] == '<') {
        return "raw '<' at " + std::to_string(j);
      }
    }
    if (j == xml.size()) return "unterminated tag at " + std::to_string(i);
    std::string_view tag = xml.substr(i + 1, j - i - 1);
    if (tag.empty()) return "empty tag at " + std::to_string(i);
    const bool closing = tag.front() == '/';
    const bool self_closing = tag.back() == '/';
    if (closing) tag.remove_prefix(1);
    const std::string name(tag.substr(0, tag.find_first_of(" \n/")));
    if (closing) {
      if (open.empty() || open.back() != name) return "unbalanced </" + name + ">";
      open.pop_back();
    } else if (!self_closing) {
      open.push_back(name);
    }
    i = j + 1;
  }
  return open.empty() ? "" : "unclosed <" + open.back() + ">";
}

std::vector<PolicyResult> LongReplay(std::size_t policies, std::size_t samples) {
  std::mt19937_64 random(7);
  std::lognormal_distribution<double> ttft(-1.0, 1.5);
  std::vector<PolicyResult> results(policies);
  for (std::size_t p = 0; p < policies; ++p) {
    results[p].policy = "policy" + std::to_string(p);
    for (std::size_t i = 0; i < samples; ++i) {
      results[p].ttft_samples.push_back(ttft(random) / static_cast<double>(p + 1));
      if (i % (p + 2) == 0) results[p].eviction_times.push_back(static_cast<double>(i) * 0.5);
    }
  }
  return results;
}

std::string WriteAndRead(const std::vector<PolicyResult>& results, const std::string& name) {
  const std::string path = testing::TempPath(name);
  REQUIRE(WriteResultsSvg(path, testing::TestScenario(), results).ok());
  std::string svg = testing::ReadFile(path);
  std::remove(path.c_str());
  return svg;
}

TEST_CASE("SVG has one line per policy in each panel and balanced tags") {
  const std::string svg = WriteAndRead(LongReplay(3, 28'000), "long.svg");
  CHECK(CheckTags(svg).empty());
  CHECK(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
  CHECK(Count(svg, "class=\"cdf\"") == 3);
  CHECK(Count(svg, "class=\"evictions\"") == 3);
  CHECK(Count(svg, "class=\"legend\"") == 3);
  CHECK(Count(svg, "data-policy=\"policy2\"") == 2);
  CHECK(Count(svg, ">policy1</text>") == 1);  // legend name
  CHECK(svg.find("cace replay: two policies") != std::string::npos);
  CHECK(svg.find(">1 s</text>") != std::string::npos);    // log axis decade label
  CHECK(svg.find(">10 ms</text>") != std::string::npos);  // the axis starts at 10 ms
  // 3 x 28,000 samples are drawn with a few hundred steps per line, not one per sample.
  CHECK(Count(svg, "V") < 6 * 401 + 100);
  CHECK(svg.size() < 200'000);
}

TEST_CASE("SVG escapes odd names and survives empty series") {
  std::vector<PolicyResult> results = LongReplay(2, 50);
  results[0].policy = "<lru & \"friends\">\n";
  results[1].ttft_samples.clear();
  results[1].eviction_times.clear();
  const std::string svg = WriteAndRead(results, "odd.svg");
  INFO(svg);
  CHECK(CheckTags(svg).empty());
  CHECK(svg.find("&lt;lru &amp; &quot;friends&quot;&gt;?") != std::string::npos);
  CHECK(Count(svg, "class=\"cdf\"") == 2);
  CHECK(Count(svg, "class=\"evictions\"") == 2);
}

// Each legend entry's text, in order.
std::vector<std::string> LegendTexts(const std::string& svg) {
  std::vector<std::string> texts;
  for (std::size_t at = svg.find("class=\"legend\""); at != std::string::npos;
       at = svg.find("class=\"legend\"", at + 1)) {
    const std::size_t begin = svg.find("<text", at);
    const std::size_t open_end = svg.find('>', begin) + 1;
    texts.push_back(svg.substr(open_end, svg.find("</text>", open_end) - open_end));
  }
  return texts;
}

bool ValidUtf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const unsigned char lead = static_cast<unsigned char>(text[i]);
    const std::size_t length = lead < 0x80           ? 1
                               : (lead >> 5) == 0x6  ? 2
                               : (lead >> 4) == 0xE  ? 3
                               : (lead >> 3) == 0x1E ? 4
                                                     : 0;
    if (length == 0 || i + length > text.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
    }
    i += length;
  }
  return true;
}

TEST_CASE("SVG legend shortens long names in the middle, never inside a UTF-8 character") {
  std::vector<PolicyResult> results = LongReplay(3, 10);
  results[0].policy = "cace-with-a-rather-long-name-w0.5";
  results[1].policy = "cace-with-a-rather-long-name-w0.8";
  results[2].policy = "a";
  for (int i = 0; i < 20; ++i) results[2].policy += "\xc3\xa9";  // e-acute, two bytes each
  const std::string svg = WriteAndRead(results, "legend.svg");
  const std::vector<std::string> legend = LegendTexts(svg);
  REQUIRE(legend.size() == 3);
  CHECK(legend[0] != legend[1]);
  CHECK(legend[0].rfind("cace-with", 0) == 0);
  CHECK(legend[0].find("...") != std::string::npos);
  CHECK(legend[0].substr(legend[0].size() - 4) == "w0.5");
  CHECK(legend[2].find("...") != std::string::npos);
  CHECK(ValidUtf8(legend[2]));
  CHECK(ValidUtf8(svg));
}

TEST_CASE("SVG with no results is still a well-formed chart") {
  const std::string svg = WriteAndRead({}, "empty.svg");
  CHECK(CheckTags(svg).empty());
  CHECK(Count(svg, "<path") == 0);
}

}  // namespace
}  // namespace cace
