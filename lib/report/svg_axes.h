// Axes for the hand-written SVG chart: mapping values to pixels (linear or log10), choosing
// readable tick values, and drawing ticks, labels and grid lines.
#ifndef CACE_LIB_REPORT_SVG_AXES_H_
#define CACE_LIB_REPORT_SVG_AXES_H_

#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fmt/format.h"

namespace cace {

// Appends one formatted line of SVG.
template <typename... Args>
void AppendLine(std::string& svg, fmt::format_string<Args...> format, Args&&... args) {
  fmt::format_to(std::back_inserter(svg), format, std::forward<Args>(args)...);
  svg += '\n';
}

// Text for an SVG text node or attribute value: XML-escaped; control characters, which XML 1.0
// forbids even escaped, become '?'.
std::string XmlText(std::string_view text);

// The smallest 1, 2 or 5 times a power of ten that is >= value (value > 0).
double NiceCeil(double value);

// The end of a linear axis from 0 that holds `value`: the first multiple of the 1-2-5 step giving
// about `target` intervals, so the data fills the plot and the last tick sits at its edge.
double NiceAxisEnd(double value, int target);

struct Axis {
  double lo, hi;              // value range; both > 0 when log
  double pixel_lo, pixel_hi;  // where lo and hi are drawn (for y, pixel_lo is the bottom)
  bool log = false;
  // Pixel of `value`, clamped to the axis range.
  double Map(double value) const;
};

struct Tick {
  double value;
  std::string label;  // empty: a minor tick, drawn short and unlabelled
};

// Ticks at multiples of a 1-2-5 step giving about `target` intervals over [lo, hi].
std::vector<Tick> LinearTicks(const Axis& axis, int target);
// Ticks of a log axis of seconds: labelled decades ("10 ms", "1 s") and unlabelled 2..9 between.
std::vector<Tick> LogSecondsTicks(const Axis& axis);

// Draws ticks, labels and light grid lines of an x axis at `y_bottom` (grid up to `y_top`) or a
// y axis at `x_left` (grid across to `x_right`).
void DrawXTicks(std::string& svg, const Axis& x, const std::vector<Tick>& ticks, double y_bottom,
                double y_top);
void DrawYTicks(std::string& svg, const Axis& y, const std::vector<Tick>& ticks, double x_left,
                double x_right);

}  // namespace cace

#endif  // CACE_LIB_REPORT_SVG_AXES_H_
