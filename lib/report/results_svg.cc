#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "lib/report/replay_report.h"
#include "fmt/format.h"
#include "fmt/ranges.h"
#include "lib/report/figures.h"
#include "lib/report/svg_axes.h"
#include "lib/report/text_file.h"

namespace cace {
namespace {

constexpr double kWidth = 1000, kHeight = 900;
constexpr double kPlotLeft = 80, kPlotRight = 790;
constexpr double kCdfTop = 116, kCdfBottom = 446;
constexpr double kEvictTop = 536, kEvictBottom = 836;
constexpr double kLegendLeft = 810;
constexpr int kTimeTicks = 8, kCountTicks = 5;  // about this many intervals on those axes
// Each line is drawn with at most this many steps, so a replay of 28,000 requests still gives a
// file of tens of kilobytes; at ~700 plot pixels the eye cannot tell the difference.
constexpr std::size_t kMaxSteps = 400;
// The CDF's time axis starts at 10 ms: below that, TTFT differences are not what policies change.
constexpr double kCdfMinSeconds = 0.01;

// Distinct colours (the d3 "category10" palette); past ten policies, lines are also dashed.
constexpr std::array<std::string_view, 10> kColours = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                                       "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                                                       "#bcbd22", "#17becf"};

std::string LineStyle(std::size_t index) {
  std::string style = fmt::format(R"(stroke="{}" stroke-width="1.8" fill="none")",
                                  kColours[index % kColours.size()]);
  if (index >= 2 * kColours.size()) return style + R"( stroke-dasharray="2 3")";
  if (index >= kColours.size()) return style + R"( stroke-dasharray="7 3")";
  return style;
}

std::vector<double> SortedFinite(const std::vector<double>& values) {
  std::vector<double> sorted;
  std::copy_if(values.begin(), values.end(), std::back_inserter(sorted),
               [](double v) { return std::isfinite(v); });
  std::sort(sorted.begin(), sorted.end());
  return sorted;
}

// Indices of `n` sorted samples at which a downsampled step line rises: all of them when few,
// else the last sample of each of kMaxSteps equal-count slices.
std::vector<std::size_t> StepIndices(std::size_t n) {
  std::vector<std::size_t> indices;
  const std::size_t steps = std::min(n, kMaxSteps);
  for (std::size_t k = 1; k <= steps; ++k) indices.push_back((k * n + steps - 1) / steps - 1);
  return indices;
}

void DrawFrame(std::string& svg, double top, double bottom, std::string_view title,
               std::string_view x_label, std::string_view y_label) {
  AppendLine(svg, R"(<text x="{:.1f}" y="{:.1f}" font-size="14" font-weight="bold">{}</text>)",
             kPlotLeft, top - 12, XmlText(title));
  AppendLine(svg, R"(<text x="{:.1f}" y="{:.1f}" text-anchor="middle">{}</text>)",
             (kPlotLeft + kPlotRight) / 2, bottom + 42, XmlText(x_label));
  const double mid = (top + bottom) / 2;
  AppendLine(
      svg,
      R"svg(<text x="{0:.1f}" y="{1:.1f}" text-anchor="middle" transform="rotate(-90 {0:.1f} {1:.1f})">{2}</text>)svg",
      kPlotLeft - 52, mid, XmlText(y_label));
}

void DrawBox(std::string& svg, double top, double bottom) {
  AppendLine(
      svg,
      R"(<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="none" stroke="#333"/>)",
      kPlotLeft, top, kPlotRight - kPlotLeft, bottom - top);
}

void DrawCdfPanel(std::string& svg, std::span<const PolicyResult> results) {
  double max_seconds = 0;
  std::vector<std::vector<double>> sorted;
  for (const PolicyResult& r : results) {
    sorted.push_back(SortedFinite(r.ttft_samples));
    if (!sorted.back().empty()) max_seconds = std::max(max_seconds, sorted.back().back());
  }
  const Axis x{kCdfMinSeconds, NiceCeil(std::max(max_seconds, 10 * kCdfMinSeconds)), kPlotLeft,
               kPlotRight, true};
  const Axis y{0, 1, kCdfBottom, kCdfTop};
  DrawFrame(svg, kCdfTop, kCdfBottom, "Time to first token: distribution (CDF)",
            "time to first token (log scale; faster ones drawn at 10 ms)", "fraction of requests");
  DrawXTicks(svg, x, LogSecondsTicks(x), kCdfBottom, kCdfTop);
  DrawYTicks(svg, y, LinearTicks(y, 5), kPlotLeft, kPlotRight);
  for (std::size_t i = 0; i < results.size(); ++i) {
    const std::vector<double>& s = sorted[i];
    std::string d;
    if (!s.empty()) {
      const double n = static_cast<double>(s.size());
      d = fmt::format("M{:.1f} {:.1f}", x.Map(s.front()), y.Map(0));
      for (std::size_t idx : StepIndices(s.size())) {
        d += fmt::format("H{:.1f}V{:.1f}", x.Map(s[idx]), y.Map(static_cast<double>(idx + 1) / n));
      }
      d += fmt::format("H{:.1f}", kPlotRight);
    }
    AppendLine(svg, R"(<path class="cdf" data-policy="{}" {} d="{}"/>)", XmlText(results[i].policy),
               LineStyle(i), d);
  }
  DrawBox(svg, kCdfTop, kCdfBottom);
}

void DrawEvictionPanel(std::string& svg, std::span<const PolicyResult> results) {
  double max_time = 0;
  std::size_t max_count = 0;
  std::vector<std::vector<double>> sorted;
  for (const PolicyResult& r : results) {
    sorted.push_back(SortedFinite(r.eviction_times));
    if (!sorted.back().empty()) max_time = std::max(max_time, sorted.back().back());
    max_count = std::max(max_count, sorted.back().size());
  }
  const Axis x{0, NiceAxisEnd(std::max(max_time, 1.0), kTimeTicks), kPlotLeft, kPlotRight};
  const Axis y{0, NiceAxisEnd(std::max(static_cast<double>(max_count), 5.0), kCountTicks),
               kEvictBottom, kEvictTop};
  DrawFrame(svg, kEvictTop, kEvictBottom, "Cumulative evictions over the replay", "replay time (s)",
            "evictions so far");
  DrawXTicks(svg, x, LinearTicks(x, kTimeTicks), kEvictBottom, kEvictTop);
  DrawYTicks(svg, y, LinearTicks(y, kCountTicks), kPlotLeft, kPlotRight);
  for (std::size_t i = 0; i < results.size(); ++i) {
    const std::vector<double>& s = sorted[i];
    std::string d = fmt::format("M{:.1f} {:.1f}", x.Map(0), y.Map(0));
    std::size_t previous = 0;
    for (std::size_t idx : StepIndices(s.size())) {
      // The slice's first eviction is where its rise starts.
      d += fmt::format("H{:.1f}V{:.1f}", x.Map(s[previous]), y.Map(static_cast<double>(idx + 1)));
      previous = idx + 1;
    }
    d += fmt::format("H{:.1f}", kPlotRight);
    AppendLine(svg, R"(<path class="evictions" data-policy="{}" {} d="{}"/>)",
               XmlText(results[i].policy), LineStyle(i), d);
  }
  DrawBox(svg, kEvictTop, kEvictBottom);
}

// A legend entry shows at most this many bytes of a policy name (full names are in the JSON).
constexpr std::size_t kLegendChars = 20;

bool Continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Long names lose their middle, not their end: policies often differ only in a suffix
// ("cace-w0.5", "cace-w0.8").
std::string LegendName(std::string_view name) {
  if (name.size() <= kLegendChars) return std::string(name);
  std::size_t head = kLegendChars / 2;
  std::size_t tail = name.size() - kLegendChars / 2;
  // Never cut inside a UTF-8 sequence.
  while (head > 0 && Continuation(name[head])) --head;
  while (tail < name.size() && Continuation(name[tail])) ++tail;
  return fmt::format("{}...{}", name.substr(0, head), name.substr(tail));
}

void DrawLegend(std::string& svg, std::span<const PolicyResult> results) {
  AppendLine(svg, R"(<text x="{:.1f}" y="{:.1f}" font-weight="bold">policy</text>)", kLegendLeft,
             kCdfTop + 4);
  for (std::size_t i = 0; i < results.size(); ++i) {
    const double y = kCdfTop + 24 + 20 * static_cast<double>(i);
    AppendLine(svg, R"(<line class="legend" x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" {}/>)",
               kLegendLeft, y, kLegendLeft + 26, y, LineStyle(i));
    AppendLine(svg, R"(<text x="{:.1f}" y="{:.1f}">{}</text>)", kLegendLeft + 32, y + 4,
               XmlText(LegendName(results[i].policy)));
  }
}

}  // namespace

absl::Status WriteResultsSvg(const std::string& path, const ScenarioInfo& scenario,
                             std::span<const PolicyResult> results) {
  std::string svg;
  AppendLine(svg,
             R"(<svg xmlns="http://www.w3.org/2000/svg" width="{0:g}" height="{1:g}" )"
             R"(viewBox="0 0 {0:g} {1:g}" font-family="sans-serif" font-size="12">)",
             kWidth, kHeight);
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  AppendLine(svg,
             R"(<text x="{:.1f}" y="30" font-size="18" font-weight="bold">cace replay: {}</text>)",
             kPlotLeft, XmlText(scenario.name));
  // What the chart is of, leaving out what the scenario does not name.
  std::vector<std::string> setup;
  if (!scenario.accelerator.empty()) setup.push_back(scenario.accelerator);
  setup.push_back(
      fmt::format("memory budget {:.1f} GB", scenario.memory_budget_bytes / kBytesPerGB));
  setup.push_back(fmt::format("rate scale {:g}", scenario.rate_scale));
  setup.push_back(fmt::format("seed {}", scenario.seed));
  std::vector<std::string> inputs;
  if (!scenario.trace.empty()) inputs.push_back("trace " + scenario.trace);
  if (!scenario.fleet.empty()) inputs.push_back("fleet " + scenario.fleet);
  AppendLine(svg, R"(<text x="{:.1f}" y="52" fill="#555">{}</text>)", kPlotLeft,
             XmlText(fmt::to_string(fmt::join(setup, ", "))));
  AppendLine(svg, R"(<text x="{:.1f}" y="70" fill="#555">{}</text>)", kPlotLeft,
             XmlText(fmt::to_string(fmt::join(inputs, "; "))));
  DrawCdfPanel(svg, results);
  DrawEvictionPanel(svg, results);
  DrawLegend(svg, results);
  svg += "</svg>\n";
  return WriteTextFile(path, svg, "results SVG");
}

}  // namespace cace
