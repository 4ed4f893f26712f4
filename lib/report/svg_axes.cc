#include "lib/report/svg_axes.h"

#include <algorithm>
#include <cmath>

#include "fmt/format.h"

namespace cace {

std::string XmlText(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c;
    }
  }
  return out;
}

double NiceCeil(double value) {
  const double decade = std::pow(10.0, std::floor(std::log10(value)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    // The tolerance keeps 0.3 from becoming 0.5 through 0.30000000000000004.
    if (m * decade >= value * (1 - 1e-9)) return m * decade;
  }
  return 10 * decade;
}

double NiceAxisEnd(double value, int target) {
  const double step = NiceCeil(value / target);
  return step * std::ceil(value / step * (1 - 1e-9));
}

double Axis::Map(double value) const {
  double f = log ? (std::log10(value) - std::log10(lo)) / (std::log10(hi) - std::log10(lo))
                 : (value - lo) / (hi - lo);
  if (!(f >= 0)) f = 0;  // also catches NaN (log of 0 or less)
  return pixel_lo + std::min(f, 1.0) * (pixel_hi - pixel_lo);
}

std::vector<Tick> LinearTicks(const Axis& axis, int target) {
  const double step = NiceCeil((axis.hi - axis.lo) / target);
  std::vector<Tick> ticks;
  for (double k = std::ceil(axis.lo / step); k * step <= axis.hi * (1 + 1e-9); ++k) {
    ticks.push_back({k * step, fmt::format("{:g}", k * step)});
  }
  return ticks;
}

std::vector<Tick> LogSecondsTicks(const Axis& axis) {
  std::vector<Tick> ticks;
  for (double decade = std::pow(10.0, std::floor(std::log10(axis.lo))); decade <= axis.hi;
       decade *= 10) {
    for (int m = 1; m <= 9; ++m) {
      const double value = m * decade;
      if (value < axis.lo * (1 - 1e-9) || value > axis.hi * (1 + 1e-9)) continue;
      std::string label;
      if (m == 1) {
        label = value < 1 ? fmt::format("{:g} ms", value * 1e3) : fmt::format("{:g} s", value);
      }
      ticks.push_back({value, label});
    }
  }
  return ticks;
}

void DrawXTicks(std::string& svg, const Axis& x, const std::vector<Tick>& ticks, double y_bottom,
                double y_top) {
  for (const Tick& tick : ticks) {
    const double px = x.Map(tick.value);
    const double length = tick.label.empty() ? 3 : 6;
    if (!tick.label.empty()) {
      AppendLine(svg,
                 R"(<line x1="{0:.1f}" y1="{1:.1f}" x2="{0:.1f}" y2="{2:.1f}" stroke="#e4e4e4"/>)",
                 px, y_top, y_bottom);
      AppendLine(svg, R"(<text x="{:.1f}" y="{:.1f}" text-anchor="middle">{}</text>)", px,
                 y_bottom + 20, XmlText(tick.label));
    }
    AppendLine(svg, R"(<line x1="{0:.1f}" y1="{1:.1f}" x2="{0:.1f}" y2="{2:.1f}" stroke="#333"/>)",
               px, y_bottom, y_bottom + length);
  }
}

void DrawYTicks(std::string& svg, const Axis& y, const std::vector<Tick>& ticks, double x_left,
                double x_right) {
  for (const Tick& tick : ticks) {
    const double py = y.Map(tick.value);
    AppendLine(svg,
               R"(<line x1="{0:.1f}" y1="{1:.1f}" x2="{2:.1f}" y2="{1:.1f}" stroke="#e4e4e4"/>)",
               x_left, py, x_right);
    AppendLine(svg, R"(<line x1="{0:.1f}" y1="{1:.1f}" x2="{2:.1f}" y2="{1:.1f}" stroke="#333"/>)",
               x_left - 6, py, x_left);
    AppendLine(svg, R"(<text x="{:.1f}" y="{:.1f}" text-anchor="end">{}</text>)", x_left - 9,
               py + 4, XmlText(tick.label));
  }
}

}  // namespace cace
